import type {
  ErrorCode,
  Role,
  RoomCloseReason,
  RoomStatus,
} from '../../protocol/index.js';
import type { FlowEffect } from '../flow/flow-effect.js';

/** One member of a room: a connection that joined it under a `clientId` and role. */
export interface MemberRecord {
  clientId: string;
  role: Role;
  connectionId: string;
  /** Time of the join, ms since the epoch. */
  joinedAt: number;
  /** Highest contiguous `seq` the member confirmed with `RECEIVED`; 0 before any. */
  receivedSeq: number;
}

/** A room as the store keeps it. Times are ms since the epoch. */
export interface RoomRecord {
  roomId: string;
  status: RoomStatus;
  /** Latest `seq`, 0 before any event. */
  seq: number;
  createdAt: number;
  expiresAt?: number;
  closedReason?: RoomCloseReason;
  members: MemberRecord[];
}

export interface RoomSummary {
  roomId: string;
  status: RoomStatus;
  clients: number;
  createdAt: number;
}

export interface JoinCommand {
  roomId: string;
  member: MemberRecord;
  lastSeq?: number;
  expiresAt?: number;
  now: number;
}

export type Rejection = {
  ok: false;
  code: ErrorCode;
  message: string;
};

export type JoinOutcome =
  | {
      ok: true;
      room: RoomRecord;
      created: boolean;
      /** The member this join replaced: same `clientId` or same connection. */
      replaced?: MemberRecord;
      /** Serialized relayed events with `seq` above `lastSeq`, oldest first. */
      missed: string[];
      truncated: boolean;
    }
  | Rejection;

export interface LeaveOutcome {
  member: MemberRecord;
  remaining: number;
}

/**
 * A relayed event split around its `seq`, which only the store assigns:
 * the frame is `head + seq + tail`.
 */
export interface FrameTemplate {
  head: string;
  tail: string;
}

export interface AppendCommand {
  roomId: string;
  /**
   * The sending member's connection: the store checks its membership and
   * does not deliver the event back to it. Absent for events the server
   * itself publishes (verified results), which go to every member.
   */
  connectionId?: string;
  /**
   * Creates the room, empty, when it does not exist yet, so that devices
   * joining later find the event. Only for commands without `connectionId`.
   */
  createRoom?: boolean;
  event: string;
  eventId: string;
  effect: FlowEffect;
  frame: FrameTemplate;
  now: number;
}

export type AppendOutcome =
  | {
      ok: true;
      seq: number;
      duplicate: boolean;
      /** Members the event was published to, on every instance; 0 for a duplicate, which is not published again. */
      recipients: number;
      status: RoomStatus;
    }
  | Rejection;

/** A frame for the local members of a room, on whichever instance has them. */
export interface Delivery {
  roomId: string;
  frame: string;
  /** Every member but this connection. */
  exceptConnectionId?: string;
  /** Only this connection. */
  toConnectionId?: string;
  /** After sending, forget the local membership of this connection, or of every member with `'*'`. */
  detach?: string;
}

export interface ReceiptOutcome {
  /** The member's confirmed `seq` after this receipt. */
  receivedSeq: number;
  /** True when the receipt raised the confirmed `seq`. */
  advanced: boolean;
  member: MemberRecord;
}

export interface ClosedRoom {
  roomId: string;
  reason: RoomCloseReason;
}

export interface SweepOutcome {
  closed: ClosedRoom[];
  removed: string[];
}

/** Limits a store enforces atomically. */
export interface RoomLimits {
  maxCreators: number;
  historyLimit: number;
  maxEvents: number;
  idleTtlMs: number;
  maxAgeMs: number;
}

export type DeliveryHandler = (delivery: Delivery) => void;

/** This instance's own numbers, which it reports to the others. */
export interface LocalStats {
  /** Open WebSocket connections. */
  clients: number;
  /** Rooms with at least one member connected to this instance. */
  rooms: number;
}

/** Totals over every live instance that shares the store. */
export interface ClusterStats {
  instances: number;
  rooms: number;
  clients: number;
}

/**
 * Shared room state: membership, flow status, `seq`, history and accepted
 * event ids. Every method is one atomic step, so that a store shared by
 * several server instances never hands out the same `seq` twice or accepts
 * two conflicting results. Implementations: `MemoryRoomStore` (default)
 * and `RedisRoomStore`.
 */
export abstract class RoomStore {
  /** Adds a member, creating the room on its first join. */
  abstract join(command: JoinCommand): Promise<JoinOutcome>;

  /** Removes the member held by a connection; `undefined` when it is not a member. */
  abstract leave(
    roomId: string,
    connectionId: string,
    now: number,
  ): Promise<LeaveOutcome | undefined>;

  /**
   * Accepts a flow event: duplicate check, membership check, transition
   * check, `seq` assignment, history append and publication to the other
   * members, as one step.
   */
  abstract append(command: AppendCommand): Promise<AppendOutcome>;

  /**
   * Records the highest contiguous `seq` a member confirmed. A lower or equal
   * `seq` changes nothing; one above the room's `seq` is capped to it.
   * `undefined` when the connection is not a member.
   */
  abstract confirmReceived(
    roomId: string,
    connectionId: string,
    seq: number,
  ): Promise<ReceiptOutcome | undefined>;

  /** Sends a frame to the members of a room on every instance. */
  abstract publish(delivery: Delivery): Promise<void>;

  /** Sets the function that hands published frames to this instance's connections. */
  abstract onDelivery(handler: DeliveryHandler): void;

  abstract getRoom(roomId: string): Promise<RoomRecord | undefined>;

  /** Lists rooms oldest first, in a stable order. */
  abstract listRooms(
    offset: number,
    limit: number,
  ): Promise<{ total: number; rooms: RoomSummary[] }>;

  /**
   * Closes rooms past their `expiresAt` or maximum age (removing their
   * members) and removes rooms empty for longer than the idle TTL.
   */
  abstract sweep(now: number): Promise<SweepOutcome>;

  /** Name of this instance among those sharing the store. */
  abstract readonly instanceId: string;

  /** Sets the function that returns this instance's own numbers. */
  abstract setLocalStats(source: () => LocalStats): void;

  /** Returns totals over every live instance. */
  abstract clusterStats(): Promise<ClusterStats>;

  /**
   * Tells whether the store can take requests now. While it is `false`,
   * `join` and `append` reject with `UNAVAILABLE`; readiness checks read it.
   */
  abstract isAvailable(): boolean;
}
