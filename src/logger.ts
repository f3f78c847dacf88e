import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { LOG_LEVELS, type EnvironmentVariables } from './config/environment.js';
import { RelayConsoleLogger } from './ops/logging/relay-console-logger.js';

/**
 * Builds the application logger: one JSON object per line in production,
 * coloured lines otherwise. Nest's own `ConsoleLogger` covers both, so no
 * logging library is needed. JSON lines also carry the connection's
 * `correlationId` and the ids passed as a plain object after the message.
 */
export function createLogger(
  env: Pick<EnvironmentVariables, 'NODE_ENV' | 'LOG_LEVEL'>,
): ConsoleLogger {
  const production = env.NODE_ENV === 'production';
  const threshold = LOG_LEVELS.indexOf(env.LOG_LEVEL);
  const logLevels: LogLevel[] = LOG_LEVELS.filter(
    (_, index) => index <= threshold,
  );
  return new RelayConsoleLogger({
    json: production,
    flattenParams: true,
    colors: !production && Boolean(process.stdout.isTTY),
    logLevels,
  });
}
