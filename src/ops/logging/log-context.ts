import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields added to every log line written while handling one connection's message. */
export interface LogContext {
  /** The connection id, which correlates every line about one device connection. */
  correlationId: string;
}

/**
 * Log context of the code running now. The WebSocket adapter enters it for
 * each message it dispatches; the logger reads it.
 */
export const logContext = new AsyncLocalStorage<LogContext>();
