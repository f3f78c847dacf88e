import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  Role,
  RoomCloseReason,
  RoomStatus,
} from '../../protocol/index.js';
import { applyFlowEffect } from '../flow/flow-effect.js';
import {
  RoomStore,
  type AppendCommand,
  type AppendOutcome,
  type ClusterStats,
  type Delivery,
  type DeliveryHandler,
  type JoinCommand,
  type JoinOutcome,
  type LeaveOutcome,
  type LocalStats,
  type MemberRecord,
  type ReceiptOutcome,
  type RoomLimits,
  type RoomRecord,
  type RoomSummary,
  type SweepOutcome,
} from './room-store.js';

interface HistoryEntry {
  seq: number;
  frame: string;
}

interface MemoryRoom {
  roomId: string;
  status: RoomStatus;
  pendingPayment: boolean;
  paidVerified: boolean;
  seq: number;
  createdAt: number;
  expiresAt?: number;
  closedReason?: RoomCloseReason;
  /** Since when the room has had no member; absent while it has one. */
  emptySince?: number;
  /** Keyed by connection id. */
  members: Map<string, MemberRecord>;
  /** Oldest first, at most `historyLimit` entries. */
  history: HistoryEntry[];
  /** Accepted event id → its `seq`. */
  eventIds: Map<string, number>;
}

/**
 * Room state in this process's memory. Every method runs to completion
 * without yielding, which makes each one atomic. A restart loses every room.
 */
export class MemoryRoomStore extends RoomStore {
  /** Insertion order is creation order, which `listRooms` relies on. */
  private readonly rooms = new Map<string, MemoryRoom>();
  private deliver: DeliveryHandler = () => undefined;
  private localStats: () => LocalStats = () => ({ clients: 0, rooms: 0 });

  constructor(
    private readonly limits: RoomLimits,
    readonly instanceId: string = randomUUID(),
  ) {
    super();
  }

  setLocalStats(source: () => LocalStats): void {
    this.localStats = source;
  }

  /** Returns this process's numbers, because one process is the whole cluster. */
  clusterStats(): Promise<ClusterStats> {
    return Promise.resolve({
      instances: 1,
      rooms: this.rooms.size,
      clients: this.localStats().clients,
    });
  }

  isAvailable(): boolean {
    return true;
  }

  onDelivery(handler: DeliveryHandler): void {
    this.deliver = handler;
  }

  publish(delivery: Delivery): Promise<void> {
    this.deliver(delivery);
    return Promise.resolve();
  }

  join(command: JoinCommand): Promise<JoinOutcome> {
    return Promise.resolve(this.joinNow(command));
  }

  private joinNow({
    roomId,
    member,
    lastSeq,
    expiresAt,
    now,
  }: JoinCommand): JoinOutcome {
    let room = this.rooms.get(roomId);
    const created = room === undefined;
    if (room === undefined) {
      room = this.createRoom(roomId, now);
    }

    if (room.closedReason) {
      return {
        ok: false,
        code: ErrorCode.ROOM_CLOSED,
        message: `Room "${roomId}" is closed (${room.closedReason})`,
      };
    }

    const replaced = [...room.members.values()].find(
      (existing) =>
        existing.clientId === member.clientId ||
        existing.connectionId === member.connectionId,
    );
    if (replaced && replaced.role !== member.role) {
      return {
        ok: false,
        code: ErrorCode.FORBIDDEN,
        message: `clientId "${member.clientId}" belongs to a ${replaced.role} in room "${roomId}"`,
      };
    }
    const others = [...room.members.values()].filter(
      (existing) => existing !== replaced,
    );
    const full = this.roleIsFull(others, member.role);
    if (full) {
      if (created) {
        this.rooms.delete(roomId);
      }
      return { ok: false, code: ErrorCode.ROOM_FULL, message: full };
    }

    if (replaced) {
      room.members.delete(replaced.connectionId);
    }
    room.members.set(member.connectionId, member);
    room.emptySince = undefined;
    if (expiresAt !== undefined) {
      room.expiresAt = expiresAt;
    }

    const { missed, truncated } = this.missedSince(room, lastSeq);
    return {
      ok: true,
      room: this.toRecord(room),
      created,
      replaced,
      missed,
      truncated,
    };
  }

  leave(
    roomId: string,
    connectionId: string,
    now: number,
  ): Promise<LeaveOutcome | undefined> {
    const room = this.rooms.get(roomId);
    const member = room?.members.get(connectionId);
    if (!room || !member) {
      return Promise.resolve(undefined);
    }

    room.members.delete(connectionId);
    if (room.members.size === 0) {
      room.emptySince = now;
    }
    return Promise.resolve({ member, remaining: room.members.size });
  }

  append(command: AppendCommand): Promise<AppendOutcome> {
    return Promise.resolve(this.appendNow(command));
  }

  private appendNow({
    roomId,
    connectionId,
    createRoom,
    event,
    eventId,
    effect,
    frame,
    now,
  }: AppendCommand): AppendOutcome {
    let room = this.rooms.get(roomId);
    if (!room && createRoom && connectionId === undefined) {
      room = this.createRoom(roomId, now);
      room.emptySince = now;
    }
    if (
      !room ||
      (connectionId !== undefined && !room.members.has(connectionId))
    ) {
      return {
        ok: false,
        code: ErrorCode.NOT_IN_ROOM,
        message: `This connection is not a member of room "${roomId}": send JOIN_ROOM first`,
      };
    }

    const acceptedSeq = room.eventIds.get(eventId);
    if (acceptedSeq !== undefined) {
      return {
        ok: true,
        seq: acceptedSeq,
        duplicate: true,
        recipients: 0,
        status: room.status,
      };
    }
    const recipients =
      connectionId === undefined ? room.members.size : room.members.size - 1;

    const transition = applyFlowEffect(room, event, effect);
    if (!transition.ok) {
      return {
        ok: false,
        code: ErrorCode.INVALID_TRANSITION,
        message: transition.reason,
      };
    }
    if (room.eventIds.size >= this.limits.maxEvents) {
      return {
        ok: false,
        code: ErrorCode.ROOM_FULL,
        message: `Room "${roomId}" reached its maximum of ${this.limits.maxEvents} events`,
      };
    }

    room.seq += 1;
    room.status = transition.state.status;
    room.pendingPayment = transition.state.pendingPayment;
    room.paidVerified = transition.state.paidVerified;
    room.eventIds.set(eventId, room.seq);
    const serialized = frame.head + room.seq + frame.tail;
    room.history.push({ seq: room.seq, frame: serialized });
    if (room.history.length > this.limits.historyLimit) {
      room.history.shift();
    }

    this.deliver({
      roomId,
      frame: serialized,
      exceptConnectionId: connectionId,
    });
    return {
      ok: true,
      seq: room.seq,
      duplicate: false,
      recipients,
      status: room.status,
    };
  }

  confirmReceived(
    roomId: string,
    connectionId: string,
    seq: number,
  ): Promise<ReceiptOutcome | undefined> {
    const room = this.rooms.get(roomId);
    const member = room?.members.get(connectionId);
    if (!room || !member) {
      return Promise.resolve(undefined);
    }

    const confirmed = Math.min(seq, room.seq);
    const advanced = confirmed > member.receivedSeq;
    if (advanced) {
      member.receivedSeq = confirmed;
    }
    return Promise.resolve({
      receivedSeq: member.receivedSeq,
      advanced,
      member: { ...member },
    });
  }

  getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const room = this.rooms.get(roomId);
    return Promise.resolve(room && this.toRecord(room));
  }

  listRooms(
    offset: number,
    limit: number,
  ): Promise<{ total: number; rooms: RoomSummary[] }> {
    const rooms: RoomSummary[] = [];
    let index = 0;
    for (const room of this.rooms.values()) {
      if (rooms.length >= limit) {
        break;
      }
      if (index++ < offset) {
        continue;
      }
      rooms.push({
        roomId: room.roomId,
        status: room.status,
        clients: room.members.size,
        createdAt: room.createdAt,
      });
    }
    return Promise.resolve({ total: this.rooms.size, rooms });
  }

  sweep(now: number): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { closed: [], removed: [] };
    for (const room of this.rooms.values()) {
      if (
        room.emptySince !== undefined &&
        now - room.emptySince >= this.limits.idleTtlMs
      ) {
        this.rooms.delete(room.roomId);
        outcome.removed.push(room.roomId);
        continue;
      }

      // An empty room is closed too, so that no join succeeds after its
      // link expired; it keeps the time it emptied for the idle removal.
      const reason = this.closeReason(room, now);
      if (reason) {
        room.closedReason = reason;
        room.members.clear();
        room.emptySince ??= now;
        outcome.closed.push({ roomId: room.roomId, reason });
      }
    }
    return Promise.resolve(outcome);
  }

  private closeReason(
    room: MemoryRoom,
    now: number,
  ): RoomCloseReason | undefined {
    if (room.closedReason) {
      return undefined;
    }
    if (room.expiresAt !== undefined && room.expiresAt <= now) {
      return RoomCloseReason.EXPIRED;
    }
    if (now - room.createdAt >= this.limits.maxAgeMs) {
      return RoomCloseReason.MAX_AGE;
    }
    return undefined;
  }

  private createRoom(roomId: string, now: number): MemoryRoom {
    const room: MemoryRoom = {
      roomId,
      status: RoomStatus.OPEN,
      pendingPayment: false,
      paidVerified: false,
      seq: 0,
      createdAt: now,
      members: new Map(),
      history: [],
      eventIds: new Map(),
    };
    this.rooms.set(roomId, room);
    return room;
  }

  /** Returns why the role has no free place, or `undefined` when it has one. */
  private roleIsFull(members: MemberRecord[], role: Role): string | undefined {
    const taken = members.filter((member) => member.role === role).length;
    const capacity = role === Role.PAYER ? 1 : this.limits.maxCreators;
    if (taken < capacity) {
      return undefined;
    }
    return `Room is full: it already holds ${taken} ${role} connection${taken === 1 ? '' : 's'}, the maximum`;
  }

  private missedSince(
    room: MemoryRoom,
    lastSeq: number | undefined,
  ): { missed: string[]; truncated: boolean } {
    const after = lastSeq ?? 0;
    const missed: string[] = [];
    for (const entry of room.history) {
      if (entry.seq > after) {
        missed.push(entry.frame);
      }
    }
    const oldestRetained = room.history[0]?.seq ?? room.seq + 1;
    const truncated = after < room.seq && oldestRetained > after + 1;
    return { missed, truncated };
  }

  private toRecord(room: MemoryRoom): RoomRecord {
    return {
      roomId: room.roomId,
      status: room.status,
      seq: room.seq,
      createdAt: room.createdAt,
      expiresAt: room.expiresAt,
      closedReason: room.closedReason,
      members: [...room.members.values()].map((member) => ({ ...member })),
    };
  }
}
