/**
 * Names of the Redis keys and channels of the room store. Every key of one
 * room carries the room id as its hash tag (`{roomId}`), so in Redis Cluster
 * all of them, and the room's sharded channel, live in one slot and one Lua
 * script may touch them together. The keys that span rooms (indexes,
 * instances) share the tag `{cluster}`, so the heartbeat script may touch
 * them together too.
 */
export class RedisKeys {
  /** Keys of every room, in the order the room scripts expect them. */
  static readonly ROOM_KEY_COUNT = 4;

  private readonly cluster: string;

  constructor(private readonly prefix: string) {
    this.cluster = `${prefix}{cluster}:`;
  }

  /**
   * The room's keys: its state (hash), members (hash, connection id → member
   * JSON), history (list of `senderConnectionId\nframe`) and accepted event
   * ids (hash, event id → `seq`).
   */
  room(roomId: string): string[] {
    const base = `${this.prefix}room:{${roomId}}`;
    return [base, `${base}:members`, `${base}:history`, `${base}:events`];
  }

  /** Channel that carries the frames for one room's members. */
  roomChannel(roomId: string): string {
    return `${this.prefix}room:{${roomId}}:channel`;
  }

  /** Sorted set of room ids by creation time, for listing. */
  get roomIndex(): string {
    return `${this.cluster}rooms`;
  }

  /** Sorted set of room ids by the time the sweep must look at them next. */
  get roomDeadlines(): string {
    return `${this.cluster}room-deadlines`;
  }

  /** Sorted set of instance ids by their last heartbeat (Redis server time, ms). */
  get instances(): string {
    return `${this.cluster}instances`;
  }

  /** An instance's own numbers as JSON; it expires when the heartbeats stop. */
  instance(instanceId: string): string {
    return `${this.cluster}instance:${instanceId}`;
  }

  /** Set of `roomId\nconnectionId` of the members connected to an instance. */
  instanceMembers(instanceId: string): string {
    return `${this.cluster}instance:${instanceId}:members`;
  }

  /** Lock taken by the instance that removes a dead instance's members. */
  reaperLock(instanceId: string): string {
    return `${this.cluster}instance:${instanceId}:reaper`;
  }
}
