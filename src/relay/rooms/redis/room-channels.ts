import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Delivery, DeliveryHandler } from '../room-store.js';
import { errorMessage, splitHistoryEntry } from './redis-records.js';
import type { RedisKeys } from './redis-keys.js';

export type PublishCommand = 'SPUBLISH' | 'PUBLISH';

/** A message on a room's channel. Short keys keep the messages small. */
export interface ChannelMessage {
  /** Room id. */
  r: string;
  /** `seq` of a relayed event; absent on other frames. */
  s?: number;
  /** The serialized frame. */
  f: string;
  /** Connection that must not get it (the sender); '' or absent for none. */
  x?: string;
  /** The only connection that gets it. */
  t?: string;
  /** `Delivery.detach`. */
  d?: string;
}

/** A relayed event seen on a room's channel while a join was waiting for Redis. */
interface SeenEvent {
  seq: number;
  frame: string;
}

/** Collects the relayed events published while one join waits for Redis. */
export interface JoinWatch {
  /**
   * Ends the watch and returns the frames of the events after `seq`, the
   * room's `seq` the join script returned, oldest first.
   */
  framesAfter(seq: number): string[];
  /** Ends the watch without using it (the join failed). */
  end(): void;
}

/**
 * Delivery through the rooms' channels for one instance: the channel
 * subscriptions, the index of local members, and the bookkeeping that hands
 * each local connection every relayed event once and in `seq` order, across
 * joins and subscriber reconnects.
 */
export class RoomChannels {
  private readonly logger = new Logger(RoomChannels.name);
  /** `SPUBLISH` (sharded pub/sub) on Redis 7.0 and later, `PUBLISH` before. */
  publishCommand: PublishCommand = 'PUBLISH';
  private deliver: DeliveryHandler = () => undefined;

  /** Connections of this instance that are members, by room. */
  private readonly localMembers = new Map<string, Set<string>>();
  /** Room channels this instance subscribed to, or is subscribing to. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  /** Joins waiting for Redis, by room: they collect the events published meanwhile. */
  private readonly pendingJoins = new Map<string, Set<SeenEvent[]>>();
  /** Highest `seq` handed to this instance's connections, by room. */
  private readonly deliveredSeq = new Map<string, number>();
  /** Rooms whose missed events are being read again after a reconnect; their live messages wait here. */
  private readonly catchingUp = new Map<string, ChannelMessage[]>();

  /**
   * @param onDetached called for each local membership a delivery's
   *   `detach` ended, so the store can drop it from Redis too.
   */
  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly onDetached: (roomId: string, connectionId: string) => void,
  ) {
    subscriber.on('smessage', (_channel: string, message: string) =>
      this.receive(message),
    );
    subscriber.on('message', (_channel: string, message: string) =>
      this.receive(message),
    );
  }

  onDelivery(handler: DeliveryHandler): void {
    this.deliver = handler;
  }

  get subscribedRooms(): number {
    return this.subscriptions.size;
  }

  hasLocalMember(roomId: string, connectionId: string): boolean {
    return this.localMembers.get(roomId)?.has(connectionId) ?? false;
  }

  /** Returns every local membership as `[roomId, connectionId]`. */
  localMemberships(): [string, string][] {
    return [...this.localMembers].flatMap(([roomId, members]) =>
      [...members].map((connectionId): [string, string] => [
        roomId,
        connectionId,
      ]),
    );
  }

  /**
   * Starts collecting the relayed events of a room for a join. Frames that
   * arrive before the join's reply find the joining connection not yet
   * attached, so they must travel in its `missed`.
   */
  watchJoin(roomId: string): JoinWatch {
    const seen: SeenEvent[] = [];
    let watches = this.pendingJoins.get(roomId);
    if (!watches) {
      watches = new Set();
      this.pendingJoins.set(roomId, watches);
    }
    watches.add(seen);

    const end = () => {
      watches.delete(seen);
      if (watches.size === 0 && this.pendingJoins.get(roomId) === watches) {
        this.pendingJoins.delete(roomId);
      }
    };
    return {
      end,
      framesAfter: (seq: number) => {
        end();
        return seen
          .filter((event) => event.seq > seq)
          .sort((a, b) => a.seq - b.seq)
          .map((event) => event.frame);
      },
    };
  }

  /**
   * Records a local connection's join. When this instance had nothing of
   * the room yet, events up to the room's `seq` reach the connection in
   * `missed`, so their channel frames are not handed over again.
   */
  joined(roomId: string, connectionId: string, seq: number): void {
    this.addLocalMember(roomId, connectionId);
    if (!this.deliveredSeq.has(roomId)) {
      this.deliveredSeq.set(roomId, seq);
    }
  }

  /**
   * Sends the frame to the room's channel without waiting for Redis, like
   * the memory store, so that no channel message reaches a joining
   * connection before its `ROOM_JOINED`. Commands on one connection keep
   * their order, so the frame still follows what this instance published
   * before. A failure is logged: presence frames are not retried.
   */
  publish(delivery: Delivery): Promise<void> {
    const message: ChannelMessage = {
      r: delivery.roomId,
      f: delivery.frame,
      ...(delivery.exceptConnectionId && { x: delivery.exceptConnectionId }),
      ...(delivery.toConnectionId && { t: delivery.toConnectionId }),
      ...(delivery.detach && { d: delivery.detach }),
    };
    this.redis
      .call(
        this.publishCommand,
        this.keys.roomChannel(delivery.roomId),
        JSON.stringify(message),
      )
      .catch((error: unknown) =>
        this.logger.warn(
          `Failed to publish a frame to room ${delivery.roomId}: ${errorMessage(error)}`,
        ),
      );
    return Promise.resolve();
  }

  /** Subscribes to a room's channel once; the join waits for it so no frame is missed. */
  subscribe(roomId: string): Promise<void> {
    let subscribed = this.subscriptions.get(roomId);
    if (!subscribed) {
      const channel = this.keys.roomChannel(roomId);
      subscribed = (
        this.publishCommand === 'SPUBLISH'
          ? this.subscriber.ssubscribe(channel)
          : this.subscriber.subscribe(channel)
      ).then(() => undefined);
      subscribed.catch(() => this.subscriptions.delete(roomId));
      this.subscriptions.set(roomId, subscribed);
    }
    return subscribed;
  }

  /** Drops the subscriptions of rooms without local members or pending joins. */
  async unsubscribeIdleRooms(): Promise<void> {
    for (const roomId of [...this.subscriptions.keys()]) {
      if (this.localMembers.has(roomId) || this.pendingJoins.has(roomId)) {
        continue;
      }
      this.subscriptions.delete(roomId);
      this.deliveredSeq.delete(roomId);
      const channel = this.keys.roomChannel(roomId);
      await (this.publishCommand === 'SPUBLISH'
        ? this.subscriber.sunsubscribe(channel)
        : this.subscriber.unsubscribe(channel));
    }
  }

  private receive(raw: string): void {
    let message: ChannelMessage;
    try {
      message = JSON.parse(raw) as ChannelMessage;
    } catch {
      this.logger.error(`Ignored a malformed message on a room channel`);
      return;
    }

    const waiting = this.catchingUp.get(message.r);
    if (waiting) {
      waiting.push(message);
      return;
    }
    this.handOver(message);
  }

  /** Hands a channel message to the local connections, skipping events they already got. */
  private handOver(message: ChannelMessage): void {
    const roomId = message.r;
    if (message.s !== undefined) {
      for (const seen of this.pendingJoins.get(roomId) ?? []) {
        seen.push({ seq: message.s, frame: message.f });
      }
      const delivered = this.deliveredSeq.get(roomId);
      if (delivered !== undefined && message.s <= delivered) {
        return;
      }
      this.deliveredSeq.set(roomId, message.s);
    }

    if (message.d !== undefined) {
      this.forgetDetached(roomId, message);
    }
    this.deliver({
      roomId,
      frame: message.f,
      exceptConnectionId: message.x || undefined,
      toConnectionId: message.t,
      detach: message.d,
    });
  }

  /** Mirrors a `detach` in this store's own index of local members. */
  private forgetDetached(roomId: string, message: ChannelMessage): void {
    const members = this.localMembers.get(roomId);
    if (!members) {
      return;
    }
    const detached =
      message.d === '*'
        ? [...members].filter((id) => id !== message.x)
        : [message.d as string].filter(
            (id) => members.has(id) && (!message.t || message.t === id),
          );
    for (const connectionId of detached) {
      this.removeLocalMember(roomId, connectionId);
      this.onDetached(roomId, connectionId);
    }
  }

  /**
   * After the subscriber reconnects, re-sends from the history the events
   * published while it was away, in `seq` order, before any live frame.
   */
  async catchUp(): Promise<void> {
    // The subscriber replies in order, so this reply means that its
    // re-subscriptions are active: nothing published from now on is missed.
    await this.subscriber.ping();
    for (const [roomId, delivered] of [...this.deliveredSeq]) {
      if (!this.localMembers.has(roomId)) {
        continue;
      }
      this.catchingUp.set(roomId, []);
      try {
        const [, , historyKey] = this.keys.room(roomId);
        const [stateKey] = this.keys.room(roomId);
        const results = await this.redis
          .multi()
          .hget(stateKey, 'seq')
          .lrange(historyKey, 0, -1)
          .exec();
        const seq = Number(results?.[0]?.[1] ?? 0);
        const entries = (results?.[1]?.[1] as string[] | undefined) ?? [];
        const oldest = seq - entries.length + 1;
        entries.forEach((entry, index) => {
          const [sender, frame] = splitHistoryEntry(entry);
          this.handOver({ r: roomId, s: oldest + index, f: frame, x: sender });
        });
        if (oldest > delivered + 1) {
          this.logger.warn(
            `Room ${roomId}: events ${delivered + 1} to ${oldest - 1} left the history during the Redis outage; members resume them with lastSeq`,
          );
        }
      } catch (error) {
        this.logger.warn(
          `Failed to re-send missed events of room ${roomId}: ${errorMessage(error)}`,
        );
      } finally {
        const waiting = this.catchingUp.get(roomId) ?? [];
        this.catchingUp.delete(roomId);
        waiting.forEach((message) => this.handOver(message));
      }
    }
  }

  addLocalMember(roomId: string, connectionId: string): void {
    let members = this.localMembers.get(roomId);
    if (!members) {
      members = new Set();
      this.localMembers.set(roomId, members);
    }
    members.add(connectionId);
  }

  removeLocalMember(roomId: string, connectionId: string): void {
    const members = this.localMembers.get(roomId);
    members?.delete(connectionId);
    if (members?.size === 0) {
      this.localMembers.delete(roomId);
    }
  }
}
