import type { EnvironmentVariables } from '../config/environment.js';
import { securityOptionsFromEnvironment } from '../security/security-settings.js';
import type { RelayOptions } from './relay-options.js';

/** Maps the validated environment to the relay module's options. */
export function relayOptionsFromEnvironment(
  env: EnvironmentVariables,
): RelayOptions {
  return {
    wsPath: env.WS_PATH,
    maxPayloadBytes: env.MAX_PAYLOAD_BYTES,
    heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
    roomMaxCreators: env.ROOM_MAX_CREATORS,
    maxRoomsPerConnection: env.MAX_ROOMS_PER_CONNECTION,
    roomHistoryLimit: env.ROOM_HISTORY_LIMIT,
    roomMaxEvents: env.ROOM_MAX_EVENTS,
    roomIdleTtlMs: env.ROOM_IDLE_TTL_MS,
    roomMaxAgeMs: env.ROOM_MAX_AGE_MS,
    roomSweepIntervalMs: env.ROOM_SWEEP_INTERVAL_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    security: securityOptionsFromEnvironment(env),
    store: {
      kind: env.ROOM_STORE,
      redisUrl: env.REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      instanceId: env.INSTANCE_ID,
      heartbeatIntervalMs: env.INSTANCE_HEARTBEAT_INTERVAL_MS,
      instanceDeadAfterMs: env.INSTANCE_DEAD_AFTER_MS,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      reconnectMaxDelayMs: env.REDIS_RECONNECT_MAX_DELAY_MS,
    },
  };
}
