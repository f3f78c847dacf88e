import {
  Catch,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { WebSocket } from 'ws';
import { ErrorCode, ID_PATTERN, type ErrorData } from '../../protocol/index.js';
import { errorFrame } from '../frames.js';
import { RelayEvents } from '../relay-events.js';
import { RelayException } from '../relay.exception.js';
import { ConnectionRegistry } from './connection-registry.js';
import { MAX_ECHOED_EVENT_LENGTH } from './message-patterns.js';

/**
 * Turns every exception thrown while handling a message into the protocol's
 * `ERROR` message. A `RelayException` keeps its code and message; anything
 * else is logged in full and reaches the client as `INTERNAL_ERROR`.
 *
 * The adapter calls each handler with `(data, event)`, so the frame's event
 * name is argument 2 of the host.
 */
@Catch()
export class RelayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(RelayExceptionFilter.name);

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly events: RelayEvents,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const socket = host.getArgByIndex<WebSocket>(0);
    const data = host.getArgByIndex<unknown>(1);
    const event = host.getArgByIndex<unknown>(2);
    const connectionId = this.registry.get(socket)?.id ?? 'unregistered';
    const roomId = stringField(data, 'roomId') ?? '-';

    const error: ErrorData = this.toErrorData(exception, connectionId, roomId);
    if (typeof event === 'string') {
      error.event = event.slice(0, MAX_ECHOED_EVENT_LENGTH);
    }
    const eventId = stringField(data, 'eventId');
    if (eventId !== undefined && ID_PATTERN.test(eventId)) {
      error.eventId = eventId;
    }

    this.events.emit('rejected', { code: error.code, event: error.event });
    this.logger.log(
      `Rejected ${error.event ?? 'a message'} on connection ${connectionId} in room ${roomId}: ${error.code}`,
      {
        connectionId,
        roomId,
        ...(error.event && { event: error.event }),
        ...(error.eventId && { eventId: error.eventId }),
      },
    );
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(errorFrame(error));
    }
  }

  private toErrorData(
    exception: unknown,
    connectionId: string,
    roomId: string,
  ): ErrorData {
    if (exception instanceof RelayException) {
      return {
        code: exception.code,
        message: exception.message,
        ...(exception.fields && { fields: exception.fields }),
      };
    }

    this.logger.error(
      `Unexpected error on connection ${connectionId} in room ${roomId}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return { code: ErrorCode.INTERNAL_ERROR, message: 'Internal error' };
  }
}

function stringField(data: unknown, key: string): string | undefined {
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  const value = (data as Record<string, unknown>)[key];
  return typeof value === 'string' ? value.slice(0, 128) : undefined;
}
