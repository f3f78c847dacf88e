import type { WebSocket } from 'ws';

export type FramingName = 'json' | 'socket.io';

/**
 * Wire framing of one kind of server, spoken by the load generator over a
 * plain `ws` client. The relay and the raw `ws` relay take `{"event":…,"data":…}`
 * frames; Socket.IO takes Engine.IO message packets that carry Socket.IO
 * EVENT packets (`42["EVENT",data]`). Both paths cost the generator the
 * same: a string concatenation to send, a prefix scan to read.
 */
export interface Framing {
  readonly name: FramingName;
  /** WebSocket URL of a server on 127.0.0.1 at `port`. */
  url(port: number): string;
  /** Resolves once the socket may send events (Socket.IO: namespace connected). */
  handshake(socket: WebSocket, timeoutMs: number): Promise<void>;
  /** Serializes one event whose data is already JSON text. */
  encode(event: string, dataJson: string): string;
  /** Event name of a received frame; `undefined` for anything else. */
  eventOf(text: string): string | undefined;
  /** Answers a transport control packet; returns true when `text` was one. */
  handleControl(socket: WebSocket, text: string): boolean;
}

const JSON_PREFIX = '{"event":"';

const jsonFraming: Framing = {
  name: 'json',
  url: (port) => `ws://127.0.0.1:${port}/ws`,
  handshake: () => Promise.resolve(),
  encode: (event, dataJson) => `${JSON_PREFIX}${event}","data":${dataJson}}`,
  eventOf: (text) => nameAfter(text, JSON_PREFIX),
  handleControl: () => false,
};

/** Engine.IO v4 packet types used here: open, ping, pong, message. */
const ENGINE_OPEN = '0';
const ENGINE_PING = '2';
const ENGINE_PONG = '3';
/** Engine.IO message packet carrying a Socket.IO CONNECT (0) or EVENT (2). */
const SOCKET_CONNECT = '40';
const SOCKET_EVENT_PREFIX = '42["';

const socketIoFraming: Framing = {
  name: 'socket.io',
  url: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
  handshake: (socket, timeoutMs) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        reject(
          new Error(`Socket.IO handshake timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onMessage = (raw: Buffer) => {
        const text = raw.toString();
        if (text.startsWith(ENGINE_OPEN)) {
          socket.send(SOCKET_CONNECT);
          return;
        }
        if (text.startsWith(SOCKET_CONNECT)) {
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve();
        }
      };
      socket.on('message', onMessage);
    }),
  encode: (event, dataJson) => `${SOCKET_EVENT_PREFIX}${event}",${dataJson}]`,
  eventOf: (text) => nameAfter(text, SOCKET_EVENT_PREFIX),
  handleControl: (socket, text) => {
    if (text !== ENGINE_PING) {
      return false;
    }
    socket.send(ENGINE_PONG);
    return true;
  },
};

export function framingOf(name: FramingName): Framing {
  return name === 'json' ? jsonFraming : socketIoFraming;
}

/** Reads the quoted name that follows `prefix` at the start of `text`. */
function nameAfter(text: string, prefix: string): string | undefined {
  if (!text.startsWith(prefix)) {
    return undefined;
  }
  const end = text.indexOf('"', prefix.length);
  return end < 0 ? undefined : text.slice(prefix.length, end);
}
