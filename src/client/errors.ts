import type { ErrorData, ErrorFieldDetail } from '../protocol/index.js';

/** Machine codes of the errors the client itself raises. */
export const ClientErrorCode = {
  /** No reply arrived within `requestTimeoutMs`. */
  TIMEOUT: 'TIMEOUT',
  /** `close()` was called, or the client stopped, before the reply arrived. */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** The app left the room before the reply arrived. */
  ROOM_LEFT: 'ROOM_LEFT',
  /** Another connection joined the room with the same `clientId`. */
  REPLACED: 'REPLACED',
  /** The server closed the room (`ROOM_CLOSED`). */
  ROOM_CLOSED: 'ROOM_CLOSED',
  /** `maxReconnectAttempts` connection attempts failed in a row. */
  RECONNECT_FAILED: 'RECONNECT_FAILED',
  /**
   * The server closed the connection with 1008: it joined no room within
   * the server's `JOIN_TIMEOUT_MS`, or kept exceeding the rate limit.
   */
  POLICY_VIOLATION: 'POLICY_VIOLATION',
  /** The server rejected the WebSocket upgrade with HTTP 401 or 403. */
  UPGRADE_REJECTED: 'UPGRADE_REJECTED',
  /** The client was used in a way its state does not allow. */
  INVALID_STATE: 'INVALID_STATE',
} as const;
export type ClientErrorCode =
  (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** An error the client raised itself, without a server reply. */
export class RelayClientError extends Error {
  override readonly name = 'RelayClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The server's `ERROR` reply to a message, as an exception. */
export class RelayServerError extends Error {
  override readonly name = 'RelayServerError';
  /** One of the protocol's `ErrorCode` values. */
  readonly code: string;
  readonly event?: string;
  readonly eventId?: string;
  readonly fields?: ErrorFieldDetail[];

  constructor(data: ErrorData) {
    super(`${data.code}: ${data.message}`);
    this.code = data.code;
    this.event = data.event;
    this.eventId = data.eventId;
    this.fields = data.fields;
  }
}
