import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode, ErrorCode, type ErrorData } from '../../protocol/index.js';
import { PaymentFlowService } from '../flow/payment-flow.service.js';
import { errorFrame } from '../frames.js';
import { RelayEvents } from '../relay-events.js';
import { RELAY_OPTIONS, type RelayOptions } from '../relay-options.js';
import { logContext } from '../../ops/logging/log-context.js';
import { ConnectionRegistry } from './connection-registry.js';
import {
  FLOW_EVENT_PATTERN,
  MAX_ECHOED_EVENT_LENGTH,
} from './message-patterns.js';

type MessageCallback = (data: unknown, event: string) => unknown;

interface ParsedFrame {
  event: string;
  data: unknown;
}

/** Sockets that answered the latest heartbeat ping. */
const alive = new WeakSet<WebSocket>();

/**
 * The WebSocket adapter of the relay. Compared with the stock `WsAdapter`:
 * - it answers every frame it cannot dispatch with an `ERROR` instead of
 *   dropping it;
 * - it handles one connection's messages strictly in arrival order, even when
 *   a handler awaits;
 * - it routes every registered flow event to the gateway's flow handler;
 * - it answers upgrades on other paths with 404 instead of destroying them;
 * - it pings every client on one shared timer;
 * - on shutdown it closes clients with 1012 before the server goes away.
 */
export class RelayWsAdapter extends WsAdapter {
  protected override readonly logger = new Logger(RelayWsAdapter.name);
  private readonly options: RelayOptions;
  private readonly registry: ConnectionRegistry;
  private readonly flow: PaymentFlowService;
  private readonly events: RelayEvents;
  private readonly upgradeListeners = new Map<
    WebSocketServer,
    (request: IncomingMessage, socket: Duplex, head: Buffer) => void
  >();
  private heartbeatTimer?: NodeJS.Timeout;
  private closing = false;

  constructor(app: INestApplicationContext) {
    super(app);
    this.options = app.get<RelayOptions>(RELAY_OPTIONS);
    this.registry = app.get(ConnectionRegistry);
    this.flow = app.get(PaymentFlowService);
    this.events = app.get(RelayEvents);
  }

  override create(): WebSocketServer {
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: true,
    });
    server.on('error', (error) =>
      this.logger.error('WebSocket server error', error),
    );

    const httpServer = this.httpServer as HttpServer;
    const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(server, request, socket, head);
    httpServer.on('upgrade', listener);
    this.upgradeListeners.set(server, listener);

    this.startHeartbeat(server);
    this.logger.log(
      `WebSocket endpoint at ${this.options.wsPath} (max payload ${this.options.maxPayloadBytes} bytes, heartbeat every ${this.options.heartbeatIntervalMs} ms)`,
    );
    return server;
  }

  override bindClientConnect(
    server: WebSocketServer,
    callback: (socket: WebSocket, request: IncomingMessage) => void,
  ): void {
    server.on('connection', (socket, request) => {
      alive.add(socket);
      socket.on('pong', () => alive.add(socket));
      socket.on('error', (error) => {
        const id = this.registry.get(socket)?.id ?? 'unregistered';
        this.logger.warn(`Connection ${id} error: ${error.message}`);
      });
      callback(socket, request);
    });
  }

  override bindMessageHandlers(
    socket: WebSocket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const callbacks = new Map<string, MessageCallback>();
    let flowCallback: MessageCallback | undefined;
    for (const handler of handlers) {
      const callback = handler.callback as MessageCallback;
      if (handler.message === FLOW_EVENT_PATTERN) {
        flowCallback = callback;
      } else {
        callbacks.set(handler.message as string, callback);
      }
    }

    // One promise chain per connection: a message starts only after the
    // previous one finished, so an await in a handler cannot reorder them.
    let queue: Promise<void> = Promise.resolve();
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      const receivedAt = performance.now();
      // Log lines written while handling the message carry the connection id.
      const correlationId = this.registry.get(socket)?.id ?? 'unregistered';
      queue = queue.then(() =>
        logContext.run({ correlationId }, () =>
          this.dispatch(
            socket,
            callbacks,
            flowCallback,
            raw,
            isBinary,
            receivedAt,
          ),
        ),
      );
    });
  }

  override async close(server: WebSocketServer): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeatTimer);
    const listener = this.upgradeListeners.get(server);
    if (listener) {
      (this.httpServer as HttpServer).off('upgrade', listener);
      this.upgradeListeners.delete(server);
    }

    const closed = [...server.clients].map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          socket.once('close', () => resolve());
          socket.close(CloseCode.SERVICE_RESTART, 'server restarting');
        }),
    );
    this.logger.log(
      `Closing ${closed.length} connection(s) with ${CloseCode.SERVICE_RESTART}`,
    );
    const waitLimit = Math.max(100, this.options.shutdownTimeoutMs / 2);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitLimit);
      }),
    ]);
    clearTimeout(timer);
    for (const socket of server.clients) {
      socket.terminate();
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  override async dispose(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    for (const [, listener] of this.upgradeListeners) {
      (this.httpServer as HttpServer).off('upgrade', listener);
    }
    this.upgradeListeners.clear();
    return Promise.resolve();
  }

  private handleUpgrade(
    server: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void {
    const pathname = (request.url ?? '/').split('?', 1)[0];
    if (pathname !== this.options.wsPath) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.closing) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    server.handleUpgrade(request, socket, head, (ws) =>
      server.emit('connection', ws, request),
    );
  }

  private startHeartbeat(server: WebSocketServer): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      for (const socket of server.clients) {
        if (!alive.has(socket)) {
          const id = this.registry.get(socket)?.id ?? 'unregistered';
          this.logger.log(
            `Connection ${id} missed a heartbeat and was terminated`,
          );
          this.events.emit('heartbeatTerminated', { connectionId: id });
          socket.terminate();
          continue;
        }
        alive.delete(socket);
        socket.ping();
      }
    }, this.options.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private async dispatch(
    socket: WebSocket,
    callbacks: Map<string, MessageCallback>,
    flowCallback: MessageCallback | undefined,
    raw: RawData,
    isBinary: boolean,
    receivedAt: number,
  ): Promise<void> {
    const connection = this.registry.get(socket);
    if (connection) {
      connection.messageReceivedAt = receivedAt;
    }
    try {
      const frame = this.parse(socket, raw, isBinary);
      if (!frame) {
        return;
      }

      const callback =
        callbacks.get(frame.event) ??
        (this.flow.isFlowEvent(frame.event) ? flowCallback : undefined);
      if (!callback) {
        this.reject(socket, {
          code: ErrorCode.UNKNOWN_EVENT,
          message: `Unknown event "${echo(frame.event)}"`,
          event: echo(frame.event),
        });
        return;
      }

      const response = await callback(frame.data, frame.event);
      if (response !== undefined && socket.readyState === WebSocket.OPEN) {
        socket.send(
          typeof response === 'string' ? response : JSON.stringify(response),
        );
      }
    } catch (error) {
      const id = this.registry.get(socket)?.id ?? 'unregistered';
      this.logger.error(`Dispatch failed on connection ${id}`, error);
      this.reject(socket, {
        code: ErrorCode.INTERNAL_ERROR,
        message: 'Internal error',
      });
    }
  }

  /** Parses a frame, answering `INVALID_MESSAGE` and returning `undefined` when it is not one. */
  private parse(
    socket: WebSocket,
    raw: RawData,
    isBinary: boolean,
  ): ParsedFrame | undefined {
    if (isBinary) {
      this.reject(socket, {
        code: ErrorCode.INVALID_MESSAGE,
        message: 'Binary frames are not accepted: send a JSON text frame',
      });
      return undefined;
    }

    let message: unknown;
    try {
      message = JSON.parse(rawText(raw));
    } catch {
      this.reject(socket, {
        code: ErrorCode.INVALID_MESSAGE,
        message: 'Frame is not valid JSON: send {"event": NAME, "data": {...}}',
      });
      return undefined;
    }

    if (
      typeof message !== 'object' ||
      message === null ||
      Array.isArray(message)
    ) {
      this.reject(socket, {
        code: ErrorCode.INVALID_MESSAGE,
        message: `Frame must be a JSON object, got ${Array.isArray(message) ? 'an array' : typeof message}`,
      });
      return undefined;
    }

    const { event, data } = message as Record<string, unknown>;
    if (typeof event !== 'string' || event.length === 0) {
      this.reject(socket, {
        code: ErrorCode.INVALID_MESSAGE,
        message:
          'Frame has no "event": send {"event": NAME, "data": {...}} with a non-empty string NAME',
      });
      return undefined;
    }
    return { event, data };
  }

  private reject(socket: WebSocket, error: ErrorData): void {
    const id = this.registry.get(socket)?.id ?? 'unregistered';
    this.events.emit('rejected', { code: error.code, event: error.event });
    this.logger.log(
      `Rejected a message on connection ${id}: ${error.code}${error.event ? ` (${error.event})` : ''}`,
    );
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(errorFrame(error));
    }
  }
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) {
    return Buffer.concat(raw).toString('utf8');
  }
  if (Buffer.isBuffer(raw)) {
    return raw.toString('utf8');
  }
  return Buffer.from(raw).toString('utf8');
}

function echo(event: string): string {
  return event.length > MAX_ECHOED_EVENT_LENGTH
    ? event.slice(0, MAX_ECHOED_EVENT_LENGTH)
    : event;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}
