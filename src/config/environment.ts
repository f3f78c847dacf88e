import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { DEFAULT_RELAY_OPTIONS as RELAY } from '../relay/relay-options.js';
import { DEFAULT_OPS_OPTIONS as OPS } from '../ops/ops-options.js';
import { opsSettingProblems } from '../ops/ops-settings.js';

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

  @IsInt()
  @Min(100)
  SHUTDOWN_TIMEOUT_MS = RELAY.shutdownTimeoutMs;

  @IsOptional()
  @IsString()
  INSTANCE_ID?: string;

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
    known[key] = raw;
  }

  const variables = plainToInstance(EnvironmentVariables, known);
  for (const error of validateSync(variables)) {
    const allowed = Object.values(error.constraints ?? {}).join(', ');
    problems.push(`${error.property}="${String(error.value)}": ${allowed}`);
  }
  if (problems.length === 0) {
    problems.push(...opsSettingProblems(variables));
  }
  if (problems.length > 0) {
    throw new Error(`Invalid environment: ${problems.join('; ')}`);
  }
  return variables;
}
