/**
 * The wire protocol of the payment relay: event names, roles, statuses, error
 * codes, close codes and the payload of every message in both directions.
 *
 * This module has no dependency on Nest or on Node, because the device client
 * library imports it too.
 */

/** Events a device sends. */
export const ClientEvent = {
  JOIN_ROOM: 'JOIN_ROOM',
  LEAVE_ROOM: 'LEAVE_ROOM',
  ENTERED_SUMMARY: 'ENTERED_SUMMARY',
  CLICKED_PROCEED: 'CLICKED_PROCEED',
  PAYMENT_METHOD_CHANGED: 'PAYMENT_METHOD_CHANGED',
  DATA_FILLED: 'DATA_FILLED',
  CLICKED_PAY: 'CLICKED_PAY',
  PAYMENT_SUCCESS: 'PAYMENT_SUCCESS',
  PAYMENT_ERROR: 'PAYMENT_ERROR',
  RECEIVED: 'RECEIVED',
  PING: 'PING',
} as const;
export type ClientEventName = (typeof ClientEvent)[keyof typeof ClientEvent];

/** The built-in flow events: the ones relayed to the other members of a room. */
export const FLOW_EVENTS = [
  ClientEvent.ENTERED_SUMMARY,
  ClientEvent.CLICKED_PROCEED,
  ClientEvent.PAYMENT_METHOD_CHANGED,
  ClientEvent.DATA_FILLED,
  ClientEvent.CLICKED_PAY,
  ClientEvent.PAYMENT_SUCCESS,
  ClientEvent.PAYMENT_ERROR,
] as const;
export type FlowEventName = (typeof FLOW_EVENTS)[number];

/** Messages the server sends. Relayed flow events keep their own names. */
export const ServerEvent = {
  ROOM_JOINED: 'ROOM_JOINED',
  ROOM_LEFT: 'ROOM_LEFT',
  ROOM_CLOSED: 'ROOM_CLOSED',
  PEER_JOINED: 'PEER_JOINED',
  PEER_LEFT: 'PEER_LEFT',
  ACK: 'ACK',
  DELIVERED: 'DELIVERED',
  PONG: 'PONG',
  ERROR: 'ERROR',
} as const;
export type ServerEventName = (typeof ServerEvent)[keyof typeof ServerEvent];

export const Role = {
  CREATOR: 'CREATOR',
  PAYER: 'PAYER',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = [Role.CREATOR, Role.PAYER];

export const RoomStatus = {
  /** No flow event yet. */
  OPEN: 'OPEN',
  IN_PROGRESS: 'IN_PROGRESS',
  /** The last result was `PAYMENT_ERROR`; the payer may retry. */
  FAILED: 'FAILED',
  /** Final: no flow event is accepted afterwards. */
  PAID: 'PAID',
} as const;
export type RoomStatus = (typeof RoomStatus)[keyof typeof RoomStatus];

export const ErrorCode = {
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  NOT_IN_ROOM: 'NOT_IN_ROOM',
  FORBIDDEN: 'FORBIDDEN',
  ROOM_FULL: 'ROOM_FULL',
  TOO_MANY_ROOMS: 'TOO_MANY_ROOMS',
  ROOM_CLOSED: 'ROOM_CLOSED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  /** The join token is missing, malformed, expired or not signed with the configured key. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The connection sent messages faster than its rate limit allows. */
  RATE_LIMITED: 'RATE_LIMITED',
  /**
   * The shared room store (Redis) is unreachable. Nothing was changed: send
   * the same message again, with the same `eventId`, once the store is reachable again.
   */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Reason the server closed a room (`ROOM_CLOSED.reason`). */
export const RoomCloseReason = {
  /** The payment link's `expiresAt` passed. */
  EXPIRED: 'EXPIRED',
  /** The room reached `ROOM_MAX_AGE_MS`. */
  MAX_AGE: 'MAX_AGE',
} as const;
export type RoomCloseReason =
  (typeof RoomCloseReason)[keyof typeof RoomCloseReason];

/** Reason a member left a room (`ROOM_LEFT.reason`). */
export const LeaveReason = {
  /** The member sent `LEAVE_ROOM`. */
  LEFT: 'LEFT',
  /** A newer connection joined with the same `clientId`. */
  REPLACED: 'REPLACED',
} as const;
export type LeaveReason = (typeof LeaveReason)[keyof typeof LeaveReason];

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** The server is going away. */
  GOING_AWAY: 1001,
  /**
   * The connection broke a policy: it sent no `JOIN_ROOM` within
   * `JOIN_TIMEOUT_MS`, or kept exceeding its message rate limit.
   */
  POLICY_VIOLATION: 1008,
  /** A frame was larger than `MAX_PAYLOAD_BYTES` (sent by `ws`). */
  MESSAGE_TOO_BIG: 1009,
  /** The server is restarting: reconnect, to this server or another one. */
  SERVICE_RESTART: 1012,
  /**
   * The client read too slowly: more than `MAX_BUFFERED_BYTES` waited to be
   * sent to it. Reconnect and rejoin with `lastSeq`.
   */
  TRY_AGAIN_LATER: 1013,
} as const;

/** Pattern of `roomId`, `clientId` and `eventId`: 1 to 128 of `A-Z a-z 0-9 _ -`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Envelope of every frame, in both directions. */
export interface Frame<E extends string = string, D = unknown> {
  event: E;
  data: D;
}

export interface Peer {
  clientId: string;
  role: Role;
}

/** Fields the server adds to every relayed flow event. */
export interface RelayedEventData {
  roomId: string;
  seq: number;
  eventId: string;
  /** Server time of acceptance, ISO 8601. */
  at: string;
  /** The sending device; absent on results the payment backend reported. */
  from?: Peer;
  /**
   * On result events (`PAYMENT_SUCCESS`, `PAYMENT_ERROR`): `true` when the
   * payment backend reported the result to the server, `false` when a
   * device sent it and nothing confirmed it yet.
   */
  verified?: boolean;
  [field: string]: unknown;
}

export interface RoomJoinedData {
  roomId: string;
  clientId: string;
  role: Role;
  seq: number;
  status: RoomStatus;
  createdAt: string;
  peers: Peer[];
  /** Retained relayed events with `seq` above the join's `lastSeq`, oldest first. */
  missed: Frame<string, RelayedEventData>[];
  /** True when events after `lastSeq` were dropped from the history before this join. */
  truncated: boolean;
}

export interface RoomLeftData {
  roomId: string;
  reason: LeaveReason;
}

export interface RoomClosedData {
  roomId: string;
  reason: RoomCloseReason;
}

export interface PeerEventData extends Peer {
  roomId: string;
}

export interface AckData {
  event: string;
  roomId: string;
  eventId: string;
  seq: number;
  deliveredTo: number;
  duplicate: boolean;
}

export interface DeliveredData {
  roomId: string;
  seq: number;
  clientId: string;
}

export interface PongData {
  at: string;
}

export interface ErrorFieldDetail {
  field: string;
  messages: string[];
}

export interface ErrorData {
  /** One of `ErrorCode`; a newer server may send codes this version does not list. */
  code: string;
  message: string;
  event?: string;
  eventId?: string;
  fields?: ErrorFieldDetail[];
}

/** Payload fields of the built-in flow events, besides `roomId` and `eventId`. */
export interface FlowEventFields {
  ENTERED_SUMMARY: Record<string, never>;
  CLICKED_PROCEED: Record<string, never>;
  PAYMENT_METHOD_CHANGED: { method: string };
  DATA_FILLED: { fields?: string[] };
  CLICKED_PAY: Record<string, never>;
  PAYMENT_SUCCESS: {
    transactionId?: string;
    amount?: number;
    currency?: string;
  };
  PAYMENT_ERROR: { code: string; message?: string };
}
