/**
 * A handler whose parameter is checked bivariantly, as method parameters
 * are, so that handlers typed with the platform's own `Event` classes fit.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/**
 * The part of the WebSocket API the client uses. The browser's `WebSocket`,
 * React Native's and the `ws` package's all fit it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Present on the `ws` package only: drops the connection without a closing handshake. */
  terminate?: () => void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` of an open socket, the same in every implementation. */
export const OPEN_STATE = 1;

/** Returns the global `WebSocket` constructor, or `undefined` where there is none (Node 20). */
export function globalWebSocket(): WebSocketConstructor | undefined {
  const candidate = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof candidate === 'function'
    ? (candidate as WebSocketConstructor)
    : undefined;
}
