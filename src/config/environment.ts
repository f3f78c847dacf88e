import { plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { DEFAULT_RELAY_OPTIONS as RELAY } from '../relay/relay-options.js';
import {
  AUTH_MODES,
  DEFAULT_SECURITY_OPTIONS as SECURITY,
  type AuthMode,
} from '../security/security-options.js';
import { securitySettingProblems } from '../security/security-settings.js';
import { DEFAULT_OPS_OPTIONS as OPS } from '../ops/ops-options.js';
import { opsSettingProblems } from '../ops/ops-settings.js';
import {
  DEFAULT_ROOM_STORE_OPTIONS as STORE,
  ROOM_STORE_KINDS,
  roomStoreSettingProblems,
  type RoomStoreKind,
} from '../relay/rooms/redis/store-options.js';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export type NodeEnvironment = (typeof NODE_ENVIRONMENTS)[number];

export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'log',
  'debug',
  'verbose',
] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Every setting the server reads from the environment, with its default.
 * README.md documents the same table.
 */
export class EnvironmentVariables {
  @IsIn(NODE_ENVIRONMENTS)
  NODE_ENV: NodeEnvironment = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';

  @Matches(/^\/[A-Za-z0-9_\-/.]*$/, {
    message: 'WS_PATH must be a URL path starting with /',
  })
  WS_PATH = RELAY.wsPath;

  @IsInt()
  @Min(64)
  @Max(16 * 1024 * 1024)
  MAX_PAYLOAD_BYTES = RELAY.maxPayloadBytes;

  @IsInt()
  @Min(50)
  HEARTBEAT_INTERVAL_MS = RELAY.heartbeatIntervalMs;

  @IsInt()
  @Min(1)
  @Max(100)
  ROOM_MAX_CREATORS = RELAY.roomMaxCreators;

  @IsInt()
  @Min(1)
  @Max(10_000)
  MAX_ROOMS_PER_CONNECTION = RELAY.maxRoomsPerConnection;

  @IsInt()
  @Min(0)
  @Max(10_000)
  ROOM_HISTORY_LIMIT = RELAY.roomHistoryLimit;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  ROOM_MAX_EVENTS = RELAY.roomMaxEvents;

  @IsInt()
  @Min(0)
  ROOM_IDLE_TTL_MS = RELAY.roomIdleTtlMs;

  @IsInt()
  @Min(1_000)
  ROOM_MAX_AGE_MS = RELAY.roomMaxAgeMs;

  @IsInt()
  @Min(10)
  ROOM_SWEEP_INTERVAL_MS = RELAY.roomSweepIntervalMs;

  @IsIn(ROOM_STORE_KINDS)
  ROOM_STORE: RoomStoreKind = STORE.kind;

  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL',
  })
  REDIS_URL = STORE.redisUrl;

  @Matches(/^[^{}\s]{0,64}$/, {
    message:
      'REDIS_KEY_PREFIX must be at most 64 characters without braces or spaces',
  })
  REDIS_KEY_PREFIX = STORE.keyPrefix;

  @IsInt()
  @Min(100)
  INSTANCE_HEARTBEAT_INTERVAL_MS = STORE.heartbeatIntervalMs;

  @IsInt()
  @Min(500)
  INSTANCE_DEAD_AFTER_MS = STORE.instanceDeadAfterMs;

  @IsInt()
  @Min(100)
  REDIS_COMMAND_TIMEOUT_MS = STORE.commandTimeoutMs;

  @IsInt()
  @Min(50)
  REDIS_RECONNECT_MAX_DELAY_MS = STORE.reconnectMaxDelayMs;

  @IsInt()
  @Min(100)
  SHUTDOWN_TIMEOUT_MS = RELAY.shutdownTimeoutMs;

  @IsOptional()
  @IsString()
  INSTANCE_ID?: string;

  /** `none` or `jwt`; unset means `jwt` when a key is set and `none` otherwise (never in production). */
  @IsOptional()
  @IsIn(AUTH_MODES)
  AUTH_MODE?: AuthMode;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' })
  AUTH_JWT_SECRET?: string;

  @IsOptional()
  @IsString()
  AUTH_JWT_PUBLIC_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  AUTH_JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  AUTH_JWT_AUDIENCE?: string;

  @IsInt()
  @Min(0)
  @Max(300)
  AUTH_JWT_CLOCK_SKEW_S = SECURITY.jwtClockSkewSeconds;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'RESULT_API_KEY must be at least 16 characters' })
  RESULT_API_KEY?: string;

  @IsOptional()
  @IsString()
  @MinLength(32, {
    message: 'RESULT_SIGNING_SECRET must be at least 32 characters',
  })
  RESULT_SIGNING_SECRET?: string;

  @IsInt()
  @Min(1)
  @Max(3600)
  RESULT_SIGNATURE_TOLERANCE_S = SECURITY.resultSignatureToleranceSeconds;

  @IsBoolean()
  REQUIRE_VERIFIED_RESULT = SECURITY.requireVerifiedResult;

  /** Comma-separated origins, such as `https://shop.example`. */
  @IsOptional()
  @IsString()
  ALLOWED_ORIGINS?: string;

  @IsBoolean()
  ALLOW_MISSING_ORIGIN = SECURITY.allowMissingOrigin;

  /** Comma-separated origins allowed by CORS on the HTTP routes. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  @IsInt()
  @Min(0)
  @Max(10)
  TRUST_PROXY = SECURITY.trustProxy;

  @IsInt()
  @Min(0)
  MAX_CONNECTIONS_PER_IP = SECURITY.maxConnectionsPerIp;

  @IsInt()
  @Min(0)
  MAX_CONNECTIONS = SECURITY.maxConnections;

  @IsInt()
  @Min(0)
  MAX_ROOMS_CREATED_PER_IP_PER_MINUTE = SECURITY.maxRoomsCreatedPerIpPerMinute;

  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_SECOND = SECURITY.rateLimitPerSecond;

  @IsInt()
  @Min(1)
  RATE_LIMIT_BURST = SECURITY.rateLimitBurst;

  @IsInt()
  @Min(1)
  RATE_LIMIT_CLOSE_AFTER = SECURITY.rateLimitCloseAfter;

  @IsInt()
  @Min(0)
  MAX_BUFFERED_BYTES = SECURITY.maxBufferedBytes;

  @IsInt()
  @Min(0)
  JOIN_TIMEOUT_MS = SECURITY.joinTimeoutMs;

  @IsBoolean()
  WS_PERMESSAGE_DEFLATE = SECURITY.perMessageDeflate;

  /** Serves the demo pages under `/demo`; unset means on, except in production. */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'DEMO_PAGES must be true or false' })
  DEMO_PAGES?: 'true' | 'false';

  /** Origin put in the demo's payment links and QR codes, such as `http://192.168.0.10:8080`; unset means the origin the page was opened at. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+$/, {
    message:
      'DEMO_PUBLIC_URL must be an http:// or https:// origin without a path, such as http://192.168.0.10:8080',
  })
  DEMO_PUBLIC_URL?: string;

  @IsInt()
  @Min(0)
  SHUTDOWN_DRAIN_DELAY_MS = OPS.shutdownDrainDelayMs;

  @IsInt()
  @Min(50)
  @Max(30_000)
  READINESS_CHECK_TIMEOUT_MS = OPS.readinessCheckTimeoutMs;

  @IsInt()
  @Min(10)
  @Max(60_000)
  ADMIN_LIVE_INTERVAL_MS = OPS.adminLiveIntervalMs;
}

const INTEGER_KEYS = new Set(
  Object.entries(new EnvironmentVariables())
    .filter(([, value]) => typeof value === 'number')
    .map(([key]) => key),
);

const BOOLEAN_KEYS = new Set(
  Object.entries(new EnvironmentVariables())
    .filter(([, value]) => typeof value === 'boolean')
    .map(([key]) => key),
);

/**
 * Validates the environment and fills in defaults.
 * @throws Error naming every invalid variable, its value and what is allowed.
 */
export function validateEnvironment(
  environment: Record<string, string | undefined>,
): EnvironmentVariables {
  const known: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(new EnvironmentVariables())) {
    const raw = environment[key];
    if (raw === undefined || raw === '') {
      continue;
    }
    if (INTEGER_KEYS.has(key)) {
      const text = raw.trim();
      if (!/^-?\d+$/.test(text)) {
        problems.push(`${key}="${raw}": must be an integer`);
        continue;
      }
      known[key] = Number(text);
      continue;
    }
    if (BOOLEAN_KEYS.has(key)) {
      const text = raw.trim().toLowerCase();
      if (text !== 'true' && text !== 'false') {
        problems.push(`${key}="${raw}": must be true or false`);
        continue;
      }
      known[key] = text === 'true';
      continue;
    }
    known[key] = raw;
  }

  const variables = plainToInstance(EnvironmentVariables, known);
  for (const error of validateSync(variables)) {
    const allowed = Object.values(error.constraints ?? {}).join(', ');
    problems.push(`${error.property}="${shownValue(error)}": ${allowed}`);
  }
  if (problems.length === 0) {
    problems.push(...securitySettingProblems(variables));
    problems.push(...opsSettingProblems(variables));
    problems.push(...roomStoreSettingProblems(variables));
  }
  if (problems.length > 0) {
    throw new Error(`Invalid environment: ${problems.join('; ')}`);
  }
  return variables;
}

/** Keys whose values are secrets, shown as `***` in error messages. */
const SECRET_KEYS = new Set([
  'AUTH_JWT_SECRET',
  'ADMIN_TOKEN',
  'RESULT_API_KEY',
  'RESULT_SIGNING_SECRET',
]);

function shownValue(error: ValidationError): string {
  return SECRET_KEYS.has(error.property) ? '***' : String(error.value);
}
