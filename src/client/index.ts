/**
 * Device client of the payment relay, for browsers, React Native and Node.
 * Import it as `payment-relay/client`.
 */
export * from '../protocol/index.js';
export {
  DEFAULT_BACKOFF,
  backoffDelay,
  type BackoffOptions,
} from './backoff.js';
export {
  ClientErrorCode,
  RelayClientError,
  RelayServerError,
} from './errors.js';
export {
  LIVENESS_CLOSE_CODE,
  RelayClient,
  type ClientEventMap,
  type ConnectionState,
  type ConnectionStateChange,
  type JoinRoomOptions,
  type ReconnectScheduled,
  type RelayClientOptions,
} from './relay-client.js';
export {
  RelayRoom,
  type ClaimedResult,
  type RelayedEvent,
  type RelayedPayload,
  type RoomEventMap,
  type RoomJoinedInfo,
  type RoomReset,
  type RoomTruncation,
  type SendOptions,
  type StatusChange,
} from './relay-room.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
