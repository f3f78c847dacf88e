import { ConsoleLogger, type LogLevel } from '@nestjs/common';

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
 * ISO 8601 next to Nest's epoch `timestamp`, and `correlationId`, the
 * connection id, on every line that names a connection. Ids passed as a
 * plain object after the message (`logger.log('Joined', { roomId,
 * connectionId })`) become top-level fields when the logger is built with
 * `flattenParams: true`.
 *
 * The ids travel as explicit fields rather than through an
 * `AsyncLocalStorage` entered per message: on Node 20 that storage made
 * every promise on the message path pay for async hooks, about a quarter of
 * the relay's own CPU per relayed event (bench/dispatch-cost.ts).
 */
export class RelayConsoleLogger extends ConsoleLogger {
  protected override getJsonLogObject(
    message: unknown,
    options: JsonLogOptions,
  ): JsonLogObject {
    const { level, ...base } = super.getJsonLogObject(message, options);
    const { connectionId } = base;
    return {
      level,
      time: new Date(base.timestamp).toISOString(),
      ...base,
      ...(typeof connectionId === 'string' &&
        !('correlationId' in base) && { correlationId: connectionId }),
    };
  }
}
