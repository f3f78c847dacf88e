export const ROOM_STORE_KINDS = ['memory', 'redis'] as const;
export type RoomStoreKind = (typeof ROOM_STORE_KINDS)[number];

/** Where rooms live, and the settings of the Redis store. */
export interface RoomStoreOptions {
  /** `memory` keeps rooms in this process; `redis` shares them between instances. */
  kind: RoomStoreKind;
  /** Redis connection URL, `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  redisUrl: string;
  /** Prefix of every Redis key and channel, so several deployments or test runs can share one Redis. */
  keyPrefix: string;
  /** Name of this instance in Redis; generated from the host name and a random suffix when absent. */
  instanceId?: string;
  /** Interval between heartbeats of this instance, in ms. */
  heartbeatIntervalMs: number;
  /** Time without a heartbeat after which other instances remove this instance's members, in ms. */
  instanceDeadAfterMs: number;
  /** Time a Redis command may take before it fails and the request gets `UNAVAILABLE`, in ms. */
  commandTimeoutMs: number;
  /** Longest pause between two attempts to reconnect to Redis, in ms; the pause doubles from 50 ms up to it. */
  reconnectMaxDelayMs: number;
}

export const DEFAULT_ROOM_STORE_OPTIONS: RoomStoreOptions = {
  kind: 'memory',
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: 'relay:',
  heartbeatIntervalMs: 2_000,
  instanceDeadAfterMs: 10_000,
  commandTimeoutMs: 2_000,
  reconnectMaxDelayMs: 2_000,
};

/**
 * Checks the settings that depend on each other.
 * @returns one message per problem, naming the variables and their values.
 */
export function roomStoreSettingProblems(env: {
  INSTANCE_HEARTBEAT_INTERVAL_MS: number;
  INSTANCE_DEAD_AFTER_MS: number;
}): string[] {
  const heartbeat = env.INSTANCE_HEARTBEAT_INTERVAL_MS;
  const deadAfter = env.INSTANCE_DEAD_AFTER_MS;
  if (deadAfter >= 2 * heartbeat) {
    return [];
  }
  return [
    `INSTANCE_DEAD_AFTER_MS="${deadAfter}": must be at least twice INSTANCE_HEARTBEAT_INTERVAL_MS (${heartbeat}), or live instances would remove each other's members`,
  ];
}
