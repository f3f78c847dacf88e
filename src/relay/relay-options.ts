import {
  DEFAULT_SECURITY_OPTIONS,
  type SecurityOptions,
} from '../security/security-options.js';
import {
  DEFAULT_ROOM_STORE_OPTIONS,
  type RoomStoreOptions,
} from './rooms/redis/store-options.js';

/** Settings of the relay module. Every field has a default in `DEFAULT_RELAY_OPTIONS`. */
export interface RelayOptions {
  /** Path of the WebSocket endpoint, matched exactly. */
  wsPath: string;
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. */
  maxPayloadBytes: number;
  /** Interval between server pings, in ms; a connection that missed the previous ping is terminated. */
  heartbeatIntervalMs: number;
  /** Creator connections one room holds, besides its one payer. */
  roomMaxCreators: number;
  /** Rooms one connection may be a member of at once. */
  maxRoomsPerConnection: number;
  /** Relayed events a room retains for `missed`; the oldest go first. */
  roomHistoryLimit: number;
  /** Flow events a room accepts in its life; each accepted `eventId` is kept for duplicate detection. */
  roomMaxEvents: number;
  /** How long a room without members is kept for a reconnect, in ms. */
  roomIdleTtlMs: number;
  /** Age at which any room is closed, in ms. */
  roomMaxAgeMs: number;
  /** Interval of the sweep that closes expired rooms and removes idle ones, in ms. */
  roomSweepIntervalMs: number;
  /** Time allowed for a graceful shutdown before the process exits anyway, in ms. */
  shutdownTimeoutMs: number;
  /** Join tokens, verified results, admin access and abuse limits. */
  security: SecurityOptions;
  /** Where rooms live: this process's memory or a Redis shared by instances. */
  store: RoomStoreOptions;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  wsPath: '/ws',
  maxPayloadBytes: 16 * 1024,
  heartbeatIntervalMs: 30_000,
  roomMaxCreators: 3,
  maxRoomsPerConnection: 20,
  roomHistoryLimit: 100,
  roomMaxEvents: 1_000,
  roomIdleTtlMs: 5 * 60_000,
  roomMaxAgeMs: 24 * 60 * 60_000,
  roomSweepIntervalMs: 1_000,
  shutdownTimeoutMs: 10_000,
  security: DEFAULT_SECURITY_OPTIONS,
  store: DEFAULT_ROOM_STORE_OPTIONS,
};

/** Injection token of the resolved `RelayOptions`. */
export const RELAY_OPTIONS = Symbol('RELAY_OPTIONS');
