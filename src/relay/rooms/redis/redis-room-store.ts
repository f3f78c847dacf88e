import {
  Logger,
  ServiceUnavailableException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  CloseCode,
  ErrorCode,
  type RoomCloseReason,
  type RoomStatus,
} from '../../../protocol/index.js';
import { applyFlowEffect } from '../../flow/flow-effect.js';
import { peerLeftFrame } from '../../frames.js';
import { RelayException } from '../../relay.exception.js';
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
} from '../room-store.js';
import {
  closeConnection,
  connectionOptions,
  isConnectionError,
  redactRedisUrl,
  redisMajorVersion,
} from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import {
  errorMessage,
  historyFrame,
  memberEntry,
  parseMember,
  splitMemberEntry,
  toMemberRecord,
} from './redis-records.js';
import {
  RoomChannels,
  type JoinWatch,
  type PublishCommand,
} from './room-channels.js';
import {
  APPEND_SCRIPT,
  CONFIRM_RECEIVED_SCRIPT,
  HEARTBEAT_SCRIPT,
  JOIN_SCRIPT,
  LEAVE_SCRIPT,
  SWEEP_SCRIPT,
  type LuaScript,
} from './redis-scripts.js';
import type { RoomStoreOptions } from './store-options.js';

/**
 * Added to every room key's TTL, in ms, so that the sweep removes an idle
 * room (and reports it) before Redis drops its keys on its own.
 */
export const KEY_TTL_GRACE_MS = 60_000;

/** Rooms the sweep looks at per pass, at most. */
const SWEEP_BATCH = 200;

/**
 * Closes one of this instance's WebSocket connections with a close code and
 * reason; does nothing when the connection is no longer open.
 */
export type ConnectionCloser = (
  connectionId: string,
  code: number,
  reason: string,
) => void;

/** Close reason sent with 1012 to a connection whose membership Redis lost. */
const MEMBERSHIP_LOST_REASON = 'room membership lost: rejoin with lastSeq';

/**
 * Room state in Redis, shared by every instance that uses the same Redis
 * and key prefix. Each mutating method is one Lua script over the room's
 * keys, which Redis runs atomically. Frames reach the instances through the
 * room's channel (sharded pub/sub on Redis 7 and later); each instance
 * subscribes to the rooms where it has members, and hands the frames to
 * its connections in `seq` order.
 *
 * While Redis is unreachable, `join` and `append` reject with `UNAVAILABLE`
 * and nothing changes; ioredis reconnects with back-off and the store
 * resumes, re-sending local members any event they missed meanwhile.
 */
export class RedisRoomStore
  extends RoomStore
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger(RedisRoomStore.name);
  private readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly channels: RoomChannels;
  /** `REDIS_URL` without its password, for logs. */
  private readonly redactedUrl: string;
  private localStats: () => LocalStats = () => ({ clients: 0, rooms: 0 });
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;
  private resuming?: Promise<void>;
  /** True once a heartbeat reached Redis: from then on, the others can reap this instance's members. */
  private registered = false;
  /**
   * Time from which this instance may reap silent instances, in ms since
   * the epoch. The first heartbeat that reaches Redis after a reconnect or
   * a failure sets it to `INSTANCE_DEAD_AFTER_MS` later.
   */
  private reapAllowedAt?: number;

  /** Leaves that failed while Redis was unreachable, as `roomId\nconnectionId`. */
  private readonly pendingLeaves = new Set<string>();

  /**
   * @param closeConnection closes a local connection whose membership Redis
   *   lost (another instance reaped this one, or Redis lost its data), so
   *   that the device reconnects and rejoins. Without it, such connections
   *   only lose their local membership.
   */
  constructor(
    private readonly limits: RoomLimits,
    private readonly options: RoomStoreOptions,
    readonly instanceId: string,
    private readonly closeConnection?: ConnectionCloser,
  ) {
    super();
    this.keys = new RedisKeys(options.keyPrefix);
    this.redactedUrl = redactRedisUrl(options.redisUrl);
    this.redis = new Redis(
      options.redisUrl,
      connectionOptions(options, `relay-${instanceId}`),
    );
    this.subscriber = this.redis.duplicate({
      connectionName: `relay-${instanceId}-subscriber`,
    });
    this.watchConnection(this.redis, 'commands');
    this.watchConnection(this.subscriber, 'subscriber');
    this.channels = new RoomChannels(
      this.redis,
      this.subscriber,
      this.keys,
      (roomId, connectionId) => this.forgetInstanceMember(roomId, connectionId),
    );
  }

  /**
   * Connects to Redis. A Redis that is down at start does not stop the
   * server: it starts unavailable and connects once Redis accepts connections.
   */
  async onModuleInit(): Promise<void> {
    try {
      await Promise.all([this.redis.connect(), this.subscriber.connect()]);
      await this.onCommandsReady();
      if (this.options.instanceId !== undefined) {
        // A fixed id may belong to a previous run of this instance, whose
        // connections are gone.
        await this.removeMembersOf(this.instanceId);
      }
      await this.heartbeat();
    } catch (error) {
      this.logger.warn(
        `Redis at ${this.redactedUrl} is unreachable at start (${errorMessage(error)}); retrying in the background`,
      );
    }

    this.heartbeatTimer = setInterval(() => {
      this.heartbeat().catch((error: unknown) => {
        // The other instances may have missed their heartbeats too.
        this.reapAllowedAt = undefined;
        this.logger.warn(`Heartbeat failed: ${errorMessage(error)}`);
      });
    }, this.options.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  /**
   * Removes this instance's members, so that the others see `PEER_LEFT`
   * now and not after `INSTANCE_DEAD_AFTER_MS`, then disconnects.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    if (this.isAvailable()) {
      try {
        await this.removeMembersOf(this.instanceId);
        await this.redis
          .multi()
          .zrem(this.keys.instances, this.instanceId)
          .del(this.keys.instance(this.instanceId))
          .exec();
      } catch (error) {
        this.logger.warn(
          `Failed to remove this instance's members on shutdown: ${errorMessage(error)}`,
        );
      }
    }
    await Promise.all([this.redis, this.subscriber].map(closeConnection));
  }

  isAvailable(): boolean {
    return this.redis.status === 'ready' && this.subscriber.status === 'ready';
  }

  onDelivery(handler: DeliveryHandler): void {
    this.channels.onDelivery(handler);
  }

  publish(delivery: Delivery): Promise<void> {
    return this.channels.publish(delivery);
  }

  setLocalStats(source: () => LocalStats): void {
    this.localStats = source;
  }

  async join(command: JoinCommand): Promise<JoinOutcome> {
    const { roomId, member } = command;
    if (!this.isAvailable()) {
      return unavailable();
    }

    // A connection that already is a local member gets the room's frames
    // through the channel, so its join collects none.
    const watch = this.channels.hasLocalMember(roomId, member.connectionId)
      ? undefined
      : this.channels.watchJoin(roomId);

    let reply: unknown[];
    try {
      if (!this.registered) {
        await this.heartbeat();
      }
      await this.channels.subscribe(roomId);
      await this.redis.sadd(
        this.keys.instanceMembers(this.instanceId),
        memberEntry(roomId, member.connectionId),
      );
      reply = (await this.runRoomScript(
        JOIN_SCRIPT,
        roomId,
        [
          member.clientId,
          member.role,
          member.connectionId,
          JSON.stringify({ ...member, instanceId: this.instanceId }),
          command.lastSeq ?? 0,
          command.expiresAt ?? '',
          this.limits.maxCreators,
        ],
        command.now,
      )) as unknown[];
    } catch (error) {
      watch?.end();
      return this.rejectionFor(error);
    }

    if (reply[0] !== 'OK') {
      watch?.end();
      this.forgetInstanceMember(roomId, member.connectionId);
    }
    return this.joinOutcome(command, reply, watch);
  }

  private joinOutcome(
    command: JoinCommand,
    reply: unknown[],
    watch: JoinWatch | undefined,
  ): JoinOutcome {
    const { roomId, member } = command;
    const [result] = reply as [string];
    if (result === 'ROOM_CLOSED') {
      return {
        ok: false,
        code: ErrorCode.ROOM_CLOSED,
        message: `Room "${roomId}" is closed (${String(reply[1])})`,
      };
    }
    if (result === 'FORBIDDEN') {
      return {
        ok: false,
        code: ErrorCode.FORBIDDEN,
        message: `clientId "${member.clientId}" belongs to a ${String(reply[1])} in room "${roomId}"`,
      };
    }
    if (result === 'ROOM_FULL') {
      const taken = Number(reply[1]);
      return {
        ok: false,
        code: ErrorCode.ROOM_FULL,
        message: `Room is full: it already holds ${taken} ${member.role} connection${taken === 1 ? '' : 's'}, the maximum`,
      };
    }

    const [, created, status, seqText, createdAt, expiresAt, replacedJson] =
      reply as string[];
    const members = (reply[7] as string[]).map(parseMember);
    const history = (reply[8] as string[]).map(historyFrame);
    const seq = Number(seqText);
    this.trackRoomDeadline(roomId, Number(reply[10]), Number(createdAt));
    this.channels.joined(roomId, member.connectionId, seq);

    // Events accepted after the join script ran, whose frames arrived
    // before its reply: the local connection was not attached yet, so they
    // travel in `missed`. Later frames reach it through the channel.
    const late = watch?.framesAfter(seq) ?? [];

    return {
      ok: true,
      room: {
        roomId,
        status: status as RoomStatus,
        seq,
        createdAt: Number(createdAt),
        expiresAt: expiresAt === '' ? undefined : Number(expiresAt),
        members: members.map(toMemberRecord),
      },
      created: Number(created) === 1,
      replaced:
        replacedJson === ''
          ? undefined
          : toMemberRecord(parseMember(replacedJson)),
      missed: [...history, ...late],
      truncated: Number(reply[9]) === 1,
    };
  }

  async leave(
    roomId: string,
    connectionId: string,
    now: number,
  ): Promise<LeaveOutcome | undefined> {
    this.channels.removeLocalMember(roomId, connectionId);
    try {
      return await this.leaveNow(roomId, connectionId, now, '');
    } catch (error) {
      if (!isConnectionError(error)) {
        throw error;
      }
      this.pendingLeaves.add(memberEntry(roomId, connectionId));
      this.logger.warn(
        `Redis unavailable: connection ${connectionId} leaves room ${roomId} once Redis is back`,
      );
      return undefined;
    }
  }

  private async leaveNow(
    roomId: string,
    connectionId: string,
    now: number,
    instanceId: string,
  ): Promise<LeaveOutcome | undefined> {
    const reply = (await this.runRoomScript(
      LEAVE_SCRIPT,
      roomId,
      [connectionId, instanceId],
      now,
    )) as [string, number, number] | null;
    await this.redis.srem(
      this.keys.instanceMembers(instanceId || this.instanceId),
      memberEntry(roomId, connectionId),
    );
    if (!reply) {
      return undefined;
    }

    const [memberJson, remaining, due] = reply;
    this.trackRoomDeadline(roomId, Number(due));
    return {
      member: toMemberRecord(parseMember(memberJson)),
      remaining: Number(remaining),
    };
  }

  /**
   * Needs only the command connection: while the subscriber reconnects, the
   * event is still accepted, and `catchUp` hands it to local members later.
   */
  async append(command: AppendCommand): Promise<AppendOutcome> {
    if (this.redis.status !== 'ready') {
      return unavailable();
    }

    const { effect } = command;
    let reply: unknown[];
    try {
      reply = (await this.runRoomScript(
        APPEND_SCRIPT,
        command.roomId,
        [
          command.connectionId ?? '',
          command.eventId,
          effect.status ?? '',
          effect.requiresPendingPayment ? '1' : '0',
          effect.pendingPayment === undefined
            ? ''
            : effect.pendingPayment
              ? '1'
              : '0',
          effect.verified ? '1' : '0',
          command.frame.head,
          command.frame.tail,
          this.limits.historyLimit,
          this.limits.maxEvents,
          this.keys.roomChannel(command.roomId),
          this.channels.publishCommand,
          command.roomId,
          command.createRoom && command.connectionId === undefined ? '1' : '0',
        ],
        command.now,
      )) as unknown[];
    } catch (error) {
      return this.rejectionFor(error);
    }

    return this.appendOutcome(command, reply);
  }

  private appendOutcome(
    command: AppendCommand,
    reply: unknown[],
  ): AppendOutcome {
    const { roomId } = command;
    switch (reply[0]) {
      case 'NOT_IN_ROOM':
        return {
          ok: false,
          code: ErrorCode.NOT_IN_ROOM,
          message: `This connection is not a member of room "${roomId}": send JOIN_ROOM first`,
        };
      case 'EVENT_LIMIT':
        return {
          ok: false,
          code: ErrorCode.ROOM_FULL,
          message: `Room "${roomId}" reached its maximum of ${this.limits.maxEvents} events`,
        };
      case 'REJECTED':
        return this.transitionRejection(command, reply as string[]);
      case 'DUPLICATE':
        return {
          ok: true,
          seq: Number(reply[1]),
          duplicate: true,
          recipients: Number(reply[2]),
          status: reply[3] as RoomStatus,
        };
    }

    // The script returns the creation time only for a room it created.
    const createdAt = reply[5] === '' ? undefined : Number(reply[5]);
    this.trackRoomDeadline(roomId, Number(reply[4]), createdAt);
    return {
      ok: true,
      seq: Number(reply[1]),
      duplicate: false,
      recipients: Number(reply[2]),
      status: reply[3] as RoomStatus,
    };
  }

  /** Words the rejection with `applyFlowEffect`, on the state the script read. */
  private transitionRejection(
    command: AppendCommand,
    reply: string[],
  ): AppendOutcome {
    const [, status, pendingPayment, paidVerified] = reply;
    const transition = applyFlowEffect(
      {
        status: status as RoomStatus,
        pendingPayment: pendingPayment === '1',
        paidVerified: paidVerified === '1',
      },
      command.event,
      command.effect,
    );
    if (transition.ok) {
      throw new Error(
        `Room ${command.roomId}: the append script rejected ${command.event}, which applyFlowEffect accepts`,
      );
    }
    return {
      ok: false,
      code: ErrorCode.INVALID_TRANSITION,
      message: transition.reason,
    };
  }

  async confirmReceived(
    roomId: string,
    connectionId: string,
    seq: number,
  ): Promise<ReceiptOutcome | undefined> {
    const reply = (await this.call(() =>
      this.runRoomScript(CONFIRM_RECEIVED_SCRIPT, roomId, [connectionId, seq]),
    )) as [string, number] | null;
    if (!reply) {
      return undefined;
    }

    const member = toMemberRecord(parseMember(reply[0]));
    return {
      receivedSeq: member.receivedSeq,
      advanced: Number(reply[1]) === 1,
      member,
    };
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const [stateKey, membersKey] = this.keys.room(roomId);
    const results = await this.read(() =>
      this.redis.multi().hgetall(stateKey).hvals(membersKey).exec(),
    );
    const state = results?.[0]?.[1] as Record<string, string> | undefined;
    const members = (results?.[1]?.[1] as string[] | undefined) ?? [];
    if (!state || state.createdAt === undefined) {
      return undefined;
    }

    return {
      roomId,
      status: state.status as RoomStatus,
      seq: Number(state.seq),
      createdAt: Number(state.createdAt),
      expiresAt:
        state.expiresAt === undefined ? undefined : Number(state.expiresAt),
      closedReason: state.closedReason as RoomCloseReason | undefined,
      members: members
        .map(parseMember)
        .map(toMemberRecord)
        .sort((a, b) => a.joinedAt - b.joinedAt),
    };
  }

  /**
   * Lists rooms by creation time. The index may name a room whose keys
   * Redis has just dropped by TTL; such rooms are left out of the page and
   * out of the index.
   */
  async listRooms(
    offset: number,
    limit: number,
  ): Promise<{ total: number; rooms: RoomSummary[] }> {
    if (limit <= 0) {
      const count = await this.read(() =>
        this.redis.zcard(this.keys.roomIndex),
      );
      return { total: count, rooms: [] };
    }
    const [total, roomIds] = await this.read(async () => {
      const counted = await this.redis
        .multi()
        .zcard(this.keys.roomIndex)
        .zrange(this.keys.roomIndex, offset, offset + limit - 1)
        .exec();
      return [counted?.[0]?.[1] as number, counted?.[1]?.[1] as string[]];
    });

    const pipeline = this.redis.pipeline();
    for (const roomId of roomIds) {
      const [stateKey, membersKey] = this.keys.room(roomId);
      pipeline.hmget(stateKey, 'status', 'createdAt').hlen(membersKey);
    }
    const results = (await this.read(() => pipeline.exec())) ?? [];

    const rooms: RoomSummary[] = [];
    const gone: string[] = [];
    roomIds.forEach((roomId, index) => {
      const [status, createdAt] = results[index * 2]?.[1] as (string | null)[];
      if (createdAt === null) {
        gone.push(roomId);
        return;
      }
      rooms.push({
        roomId,
        status: status as RoomStatus,
        clients: results[index * 2 + 1]?.[1] as number,
        createdAt: Number(createdAt),
      });
    });
    if (gone.length > 0) {
      await this.forgetRooms(gone);
    }
    return { total: total - gone.length, rooms };
  }

  /**
   * Looks at the rooms whose deadline passed. Every instance sweeps; the
   * script is atomic, so one room is closed or removed by one of them only.
   * While Redis is unreachable the sweep does nothing. A room whose step
   * fails is logged and looked at again in the next pass, and the rooms
   * already closed or removed in this pass are still returned, so that
   * their members get `ROOM_CLOSED`.
   */
  async sweep(now: number): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { closed: [], removed: [] };
    if (!this.isAvailable()) {
      return outcome;
    }

    const due = await this.redis.zrangebyscore(
      this.keys.roomDeadlines,
      '-inf',
      now,
      'LIMIT',
      0,
      SWEEP_BATCH,
    );
    for (const roomId of due) {
      try {
        await this.sweepRoom(roomId, now, outcome);
      } catch (error) {
        this.logger.error(
          `Failed to sweep room ${roomId}: ${errorMessage(error)}; retrying in the next pass`,
        );
      }
    }
    return outcome;
  }

  /** Closes or removes one room when due, and adds it to `outcome`. */
  private async sweepRoom(
    roomId: string,
    now: number,
    outcome: SweepOutcome,
  ): Promise<void> {
    const reply = (await this.runRoomScript(
      SWEEP_SCRIPT,
      roomId,
      [],
      now,
    )) as unknown[];
    switch (reply[0]) {
      case 'GONE':
        await this.forgetRooms([roomId]);
        break;
      case 'REMOVED':
        outcome.removed.push(roomId);
        await this.forgetRooms([roomId]);
        break;
      case 'WAIT':
        this.trackRoomDeadline(roomId, Number(reply[1]));
        break;
      case 'CLOSED':
        outcome.closed.push({ roomId, reason: reply[1] as RoomCloseReason });
        this.trackRoomDeadline(roomId, Number(reply[2]));
        await this.forgetMembers(roomId, reply[3] as string[]);
        break;
    }
  }

  async clusterStats(): Promise<ClusterStats> {
    const [rooms, instanceIds] = await this.read(async () => {
      const results = await this.redis
        .multi()
        .zcard(this.keys.roomIndex)
        .zrange(this.keys.instances, 0, -1)
        .exec();
      return [results?.[0]?.[1] as number, results?.[1]?.[1] as string[]];
    });
    const reports =
      instanceIds.length === 0
        ? []
        : await this.read(() =>
            this.redis.mget(instanceIds.map((id) => this.keys.instance(id))),
          );

    // This instance counts with its live numbers, the others with their
    // last heartbeat's.
    let instances = 1;
    let clients = this.localStats().clients;
    reports.forEach((report, index) => {
      if (report === null || instanceIds[index] === this.instanceId) {
        return;
      }
      instances += 1;
      clients += (JSON.parse(report) as LocalStats).clients;
    });
    return { instances, rooms, clients };
  }

  /* ---- Instance heartbeat and failure handling ---- */

  /**
   * Refreshes this instance's heartbeat and numbers, removes the members of
   * instances whose heartbeat stopped, and drops channel subscriptions of
   * rooms without local members.
   *
   * After Redis was unreachable, every instance's last heartbeat may be
   * older than `INSTANCE_DEAD_AFTER_MS`, although all of them are alive. So
   * an instance reaps only once `INSTANCE_DEAD_AFTER_MS` has passed since
   * its first heartbeat after a failure or a reconnect, which gives the
   * others the time to send theirs. When the index no longer lists this
   * instance, another one reaped it: its connections' memberships are
   * checked and the lost ones closed.
   */
  private async heartbeat(): Promise<void> {
    if (!this.isAvailable() || this.stopped) {
      return;
    }

    const [listed, dead] = (await this.runScript(
      HEARTBEAT_SCRIPT,
      [
        this.keys.instances,
        this.keys.instance(this.instanceId),
        this.keys.instanceMembers(this.instanceId),
      ],
      [
        this.instanceId,
        JSON.stringify(this.localStats()),
        this.options.instanceDeadAfterMs,
        this.longestRoomLifeMs(),
      ],
    )) as [number, string[]];
    const wasRegistered = this.registered;
    this.registered = true;
    if (wasRegistered && Number(listed) === 0) {
      this.logger.warn(
        `Instance ${this.instanceId} was missing from the instance index (reaped by another instance, or Redis lost its data); checking its connections' memberships`,
      );
      await this.closeLostMembers();
    }

    const now = Date.now();
    this.reapAllowedAt ??= now + this.options.instanceDeadAfterMs;
    if (now >= this.reapAllowedAt) {
      for (const instanceId of dead) {
        if (instanceId !== this.instanceId) {
          await this.reap(instanceId);
        }
      }
    }
    await this.channels.unsubscribeIdleRooms();
  }

  /**
   * Finds the local connections whose membership Redis no longer holds for
   * this instance, and closes each of them with 1012, so that the device
   * reconnects and rejoins with its `lastSeq`. A rejoin repeats the join's
   * checks (closed room, capacity, a newer connection with the same
   * clientId) and tells the peers, which re-adding the memberships here
   * would have to copy. The memberships still held go back into this
   * instance's member set, which the reaper deleted.
   */
  private async closeLostMembers(): Promise<void> {
    const memberships = this.channels.localMemberships();
    if (memberships.length === 0) {
      return;
    }

    const pipeline = this.redis.pipeline();
    for (const [roomId, connectionId] of memberships) {
      pipeline.hget(this.keys.room(roomId)[1], connectionId);
    }
    const results = (await pipeline.exec()) ?? [];
    const stillHeld: string[] = [];
    const lost = new Map<string, string[]>();
    memberships.forEach(([roomId, connectionId], index) => {
      const [error, value] = results[index] ?? [];
      if (error) {
        throw error;
      }
      if (
        typeof value === 'string' &&
        parseMember(value).instanceId === this.instanceId
      ) {
        stillHeld.push(memberEntry(roomId, connectionId));
        return;
      }
      lost.set(connectionId, [...(lost.get(connectionId) ?? []), roomId]);
    });

    if (stillHeld.length > 0) {
      await this.redis.sadd(
        this.keys.instanceMembers(this.instanceId),
        stillHeld,
      );
    }
    for (const [connectionId, roomIds] of lost) {
      for (const roomId of roomIds) {
        this.channels.removeLocalMember(roomId, connectionId);
      }
      this.logger.warn(
        `Connection ${connectionId} is no longer a member of room(s) ${roomIds.join(', ')} in Redis; closing it with ${CloseCode.SERVICE_RESTART} so that the device rejoins`,
      );
      this.closeConnection?.(
        connectionId,
        CloseCode.SERVICE_RESTART,
        MEMBERSHIP_LOST_REASON,
      );
    }
  }

  /**
   * Removes the members of an instance that stopped sending heartbeats. A
   * lock lets one instance do it; if that one dies too, the lock expires
   * and another finishes the work.
   */
  private async reap(instanceId: string): Promise<void> {
    const locked = await this.redis.set(
      this.keys.reaperLock(instanceId),
      this.instanceId,
      'PX',
      this.options.instanceDeadAfterMs,
      'NX',
    );
    if (locked !== 'OK') {
      return;
    }

    const removed = await this.removeMembersOf(instanceId);
    await this.redis
      .multi()
      .zrem(this.keys.instances, instanceId)
      .del(
        this.keys.instanceMembers(instanceId),
        this.keys.reaperLock(instanceId),
      )
      .exec();
    this.logger.warn(
      `Instance ${instanceId} stopped sending heartbeats: removed its ${removed} member(s)`,
    );
  }

  /** Removes every member of an instance and publishes `PEER_LEFT` for each; returns how many. */
  private async removeMembersOf(instanceId: string): Promise<number> {
    const entries = await this.redis.smembers(
      this.keys.instanceMembers(instanceId),
    );
    let removed = 0;
    for (const entry of entries) {
      const [roomId, connectionId] = splitMemberEntry(entry);
      if (instanceId === this.instanceId) {
        this.channels.removeLocalMember(roomId, connectionId);
      }
      const outcome = await this.leaveNow(
        roomId,
        connectionId,
        Date.now(),
        instanceId,
      );
      if (outcome) {
        removed += 1;
        await this.announceLeft(roomId, connectionId, outcome.member);
      }
    }
    return removed;
  }

  private async announceLeft(
    roomId: string,
    connectionId: string,
    member: MemberRecord,
  ): Promise<void> {
    const { clientId, role } = member;
    this.logger.log(
      `Removed ${role} ${clientId} (connection ${connectionId}) from room ${roomId}`,
    );
    await this.publish({
      roomId,
      frame: peerLeftFrame({ roomId, clientId, role }),
      exceptConnectionId: connectionId,
    });
  }

  /** Retries the leaves that failed while Redis was unreachable. */
  private async finishPendingLeaves(): Promise<void> {
    for (const entry of [...this.pendingLeaves]) {
      const [roomId, connectionId] = splitMemberEntry(entry);
      const outcome = await this.leaveNow(roomId, connectionId, Date.now(), '');
      this.pendingLeaves.delete(entry);
      if (outcome) {
        await this.announceLeft(roomId, connectionId, outcome.member);
      }
    }
  }

  /** Drops a connection that is no longer a member from this instance's set. */
  private forgetInstanceMember(roomId: string, connectionId: string): void {
    this.redis
      .srem(
        this.keys.instanceMembers(this.instanceId),
        memberEntry(roomId, connectionId),
      )
      .catch((error: unknown) =>
        this.logger.warn(
          `Failed to drop connection ${connectionId} of room ${roomId} from this instance's members: ${errorMessage(error)}`,
        ),
      );
  }

  /* ---- Helpers ---- */

  /**
   * Records when the sweep must look at a room next, and its creation time
   * for listing. Both indexes live outside the room's slot, so they are
   * updated after the room script; a stale entry only makes the sweep look
   * at the room early, and the key TTLs bound a room the index missed.
   */
  private trackRoomDeadline(
    roomId: string,
    due: number,
    createdAt?: number,
  ): void {
    const keep = this.longestRoomLifeMs();
    const multi = this.redis
      .multi()
      .zadd(this.keys.roomDeadlines, due, roomId)
      .pexpire(this.keys.roomDeadlines, keep);
    if (createdAt !== undefined) {
      multi
        .zadd(this.keys.roomIndex, 'NX', createdAt, roomId)
        .pexpire(this.keys.roomIndex, keep);
    }
    multi
      .exec()
      .catch((error: unknown) =>
        this.logger.warn(
          `Failed to index room ${roomId}: ${errorMessage(error)}; its key TTL still bounds it`,
        ),
      );
  }

  /**
   * Returns how long a room's keys can live at most, in ms. Keys that span
   * rooms get this TTL on each write, so a prefix nobody uses any more
   * leaves nothing behind.
   */
  private longestRoomLifeMs(): number {
    return this.limits.maxAgeMs + this.limits.idleTtlMs + KEY_TTL_GRACE_MS;
  }

  private async forgetRooms(roomIds: string[]): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.roomIndex, ...roomIds)
      .zrem(this.keys.roomDeadlines, ...roomIds)
      .exec();
  }

  /** Drops the members a closed room lost from their instances' sets. */
  private async forgetMembers(
    roomId: string,
    members: string[],
  ): Promise<void> {
    const multi = this.redis.multi();
    for (const member of members.map(parseMember)) {
      multi.srem(
        this.keys.instanceMembers(member.instanceId),
        memberEntry(roomId, member.connectionId),
      );
    }
    await multi.exec();
  }

  private runRoomScript(
    script: LuaScript,
    roomId: string,
    args: (string | number)[],
    now = Date.now(),
  ): Promise<unknown> {
    return this.runScript(script, this.keys.room(roomId), [
      now,
      this.limits.idleTtlMs,
      this.limits.maxAgeMs,
      KEY_TTL_GRACE_MS,
      ...args,
    ]);
  }

  /** Runs a script by its SHA1, loading it first when Redis does not have it (after a restart). */
  private async runScript(
    script: LuaScript,
    keys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    try {
      return await this.redis.evalsha(
        script.sha,
        keys.length,
        ...keys,
        ...args,
      );
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) {
        throw error;
      }
      return this.redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /** Runs a request for a connection; a Redis outage becomes `UNAVAILABLE`. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isConnectionError(error)) {
        throw new RelayException(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE);
      }
      throw error;
    }
  }

  /** Runs a read for the HTTP endpoints; a Redis outage becomes 503. */
  private async read<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isConnectionError(error)) {
        throw new ServiceUnavailableException(UNAVAILABLE_MESSAGE);
      }
      throw error;
    }
  }

  private rejectionFor(error: unknown): JoinOutcome & AppendOutcome {
    if (isConnectionError(error)) {
      return unavailable();
    }
    throw error;
  }

  private watchConnection(connection: Redis, role: string): void {
    let lost = false;
    connection.on('error', (error: Error) => {
      if (!lost) {
        this.logger.error(
          `Redis ${role} connection to ${this.redactedUrl} failed: ${error.message}`,
        );
      }
    });
    connection.on('close', () => {
      if (role === 'commands') {
        this.reapAllowedAt = undefined;
      }
      if (!lost && !this.stopped) {
        lost = true;
        this.logger.warn(
          `Redis ${role} connection lost; joins and events get UNAVAILABLE until it is back`,
        );
      }
    });
    connection.on('ready', () => {
      if (!lost) {
        return;
      }
      lost = false;
      this.logger.log(`Redis ${role} connection is back`);
      this.resuming ??= this.resume()
        .catch((error: unknown) =>
          this.logger.warn(
            `Failed to resume after reconnecting: ${errorMessage(error)}`,
          ),
        )
        .finally(() => (this.resuming = undefined));
    });
  }

  /**
   * Runs once both connections are back: closes the local connections
   * whose membership another instance removed meanwhile, finishes the
   * leaves that failed, and re-sends local members the events published
   * while they were away.
   */
  private async resume(): Promise<void> {
    if (!this.isAvailable()) {
      return;
    }
    await this.onCommandsReady();
    await this.heartbeat();
    await this.closeLostMembers();
    await this.finishPendingLeaves();
    await this.channels.catchUp();
  }

  /**
   * Picks sharded pub/sub when the server has it (Redis 7.0 and later).
   * NOTE: the PUBLISH fallback for older servers has no test here, because
   * the test machines run Redis 7.
   */
  private async onCommandsReady(): Promise<void> {
    const major = await redisMajorVersion(this.redis);
    const publishCommand: PublishCommand = major >= 7 ? 'SPUBLISH' : 'PUBLISH';
    if (
      publishCommand !== this.channels.publishCommand &&
      this.channels.subscribedRooms > 0
    ) {
      this.logger.warn(
        `Redis version changed to ${major} while rooms were subscribed; keeping ${this.channels.publishCommand}`,
      );
      return;
    }
    this.channels.publishCommand = publishCommand;
    this.logger.log(
      `Connected to Redis ${major} at ${this.redactedUrl} as instance ${this.instanceId} (${publishCommand})`,
    );
  }
}

const UNAVAILABLE_MESSAGE =
  'The room store is unreachable; nothing was changed. Send the same message again, with the same eventId, in a moment';

function unavailable(): { ok: false; code: ErrorCode; message: string } {
  return {
    ok: false,
    code: ErrorCode.UNAVAILABLE,
    message: UNAVAILABLE_MESSAGE,
  };
}
