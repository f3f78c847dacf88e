import type { Redis, RedisOptions } from 'ioredis';
import type { RoomStoreOptions } from './store-options.js';

/**
 * Options of the store's connections: no offline queue and no retry of a
 * request, so that an outage fails requests at once (as `UNAVAILABLE`)
 * instead of queueing them, and reconnection with a back-off that doubles
 * from 50 ms up to `reconnectMaxDelayMs`.
 */
export function connectionOptions(
  options: RoomStoreOptions,
  connectionName: string,
): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.commandTimeoutMs,
    retryStrategy: (attempt) =>
      Math.min(
        50 * 2 ** Math.min(attempt - 1, 16),
        options.reconnectMaxDelayMs,
      ),
    connectionName,
  };
}

/** Returns the major version of the Redis server, 0 when `INFO` does not say. */
export async function redisMajorVersion(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Returns the URL without its password, for logs. */
export function redactRedisUrl(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (url.password) {
      url.password = '***';
    }
    return url.toString();
  } catch {
    return 'an invalid URL';
  }
}

/**
 * Tells a failure to reach Redis (closed, timed out, not yet connected, or
 * a server that is loading or not a primary) from an error in a request.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  if (error.name === 'ReplyError') {
    return /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)/.test(
      error.message,
    );
  }
  return true;
}

/** Closes a connection after its pending commands (such as the last `PEER_LEFT`) went out. */
export async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
}
