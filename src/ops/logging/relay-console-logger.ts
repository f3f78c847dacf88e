import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { logContext } from './log-context.js';

interface JsonLogOptions {
  context: string;
  logLevel: LogLevel;
  writeStreamType?: 'stdout' | 'stderr';
  errorStack?: unknown;
  params?: Record<string, unknown>;
  error?: Error;
}

interface JsonLogObject {
  [key: string]: unknown;
  level: LogLevel;
  pid: number;
  timestamp: number;
  message: unknown;
}

/**
 * Nest's `ConsoleLogger` with two additions to its JSON lines: `time` in
 * ISO 8601 next to Nest's epoch `timestamp`, and the `correlationId` of the
 * connection whose message is being handled. Ids passed as a plain object
 * after the message (`logger.log('Joined', { roomId, clientId })`) become
 * top-level fields when the logger is built with `flattenParams: true`.
 */
export class RelayConsoleLogger extends ConsoleLogger {
  protected override getJsonLogObject(
    message: unknown,
    options: JsonLogOptions,
  ): JsonLogObject {
    const { level, ...base } = super.getJsonLogObject(message, options);
    const context = logContext.getStore();
    return {
      level,
      time: new Date(base.timestamp).toISOString(),
      ...base,
      ...(context &&
        !('correlationId' in base) && {
          correlationId: context.correlationId,
        }),
    };
  }
}
