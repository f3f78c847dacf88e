import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  CloseCode,
  ErrorCode,
  ID_PATTERN,
  type ErrorData,
} from '../../protocol/index.js';
import {
  ConnectionContextRegistry,
  type ConnectionContext,
} from '../../security/connection-context.js';
import { ConnectionGuard } from '../../security/connection-guard.js';
import { MAX_FRAME_DEPTH, nestsDeeperThan } from '../../security/json-depth.js';
import {
  SECURITY_OPTIONS,
  type SecurityOptions,
} from '../../security/security-options.js';
import { UpgradeGate } from '../../security/upgrade-gate.js';
import { PaymentFlowService } from '../flow/payment-flow.service.js';
import { errorFrame } from '../frames.js';
import { RelayEvents } from '../relay-events.js';
import { RELAY_OPTIONS, type RelayOptions } from '../relay-options.js';
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

/** Sockets that sent a pong for the latest heartbeat ping. */
const alive = new WeakSet<WebSocket>();

/**
 * Time a slow reader or a flooding client gets to complete the closing
 * handshake before its socket is destroyed, in ms. A slow reader's send
 * buffer is already full, so its close frame may never get through.
 */
const ABUSER_CLOSE_GRACE_MS = 1_000;

/**
 * `permessage-deflate` settings when `WS_PERMESSAGE_DEFLATE=true`. Without
 * context takeover each message gets a fresh zlib stream, so no compression
 * state outlives a message. Small windows and `memLevel` keep each stream's
 * memory low, and `maxPayload` bounds the inflated size.
 */
const BOUNDED_DEFLATE = {
  threshold: 1024,
  concurrencyLimit: 10,
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 10,
  clientMaxWindowBits: 10,
  zlibDeflateOptions: { memLevel: 4 },
};

/**
 * The WebSocket adapter of the relay. Compared with the stock `WsAdapter`:
 * - it replies to every frame it cannot dispatch with an `ERROR` instead of
 *   dropping it;
 * - it handles one connection's messages strictly in arrival order, even when
 *   a handler awaits;
 * - it routes every registered flow event to the gateway's flow handler;
 * - it replies to upgrades on other paths with 404 instead of destroying them;
 * - before accepting an upgrade it checks the origin, an upgrade join token
 *   and the connection caps (`UpgradeGate`), answering 401/403/429/503;
 * - it rate-limits each connection's messages, closes slow readers with
 *   1013 and connections that join no room within `JOIN_TIMEOUT_MS` with 1008;
 * - it pings every client on one shared timer;
 * - on shutdown it closes clients with 1012 before the server goes away.
 */
export class RelayWsAdapter extends WsAdapter {
  protected override readonly logger = new Logger(RelayWsAdapter.name);
  private readonly options: RelayOptions;
  private readonly registry: ConnectionRegistry;
  private readonly flow: PaymentFlowService;
  private readonly events: RelayEvents;
  private readonly security: SecurityOptions;
  private readonly gate: UpgradeGate;
  private readonly contexts: ConnectionContextRegistry;
  private readonly upgradeContexts = new WeakMap<
    IncomingMessage,
    ConnectionContext
  >();
  private readonly guards = new WeakMap<WebSocket, ConnectionGuard>();
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
    this.security = app.get<SecurityOptions>(SECURITY_OPTIONS);
    this.gate = app.get(UpgradeGate);
    this.contexts = app.get(ConnectionContextRegistry);
  }

  override create(): WebSocketServer {
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayloadBytes,
      perMessageDeflate: this.security.perMessageDeflate
        ? BOUNDED_DEFLATE
        : false,
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
        this.logger.warn(`Connection ${id} error: ${error.message}`, {
          connectionId: id,
        });
      });
      callback(socket, request);
      this.protect(socket, request);
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
      const verdict =
        this.guards.get(socket)?.admitMessage(receivedAt) ?? 'accept';
      if (verdict === 'close') {
        // Queued like the rest, so the RATE_LIMITED replies already due go
        // out before the close frame.
        queue = queue.then(() => this.closeForAbuse(socket));
        return;
      }
      if (verdict === 'rate-limited') {
        const first = this.guards.get(socket)?.limitedInWindow === 1;
        queue = queue.then(() => this.rejectRateLimited(socket, first));
        return;
      }
      queue = queue.then(() =>
        this.dispatch(
          socket,
          callbacks,
          flowCallback,
          raw,
          isBinary,
          receivedAt,
        ),
      );
    });
  }

  override async close(server: WebSocketServer): Promise<void> {
    // The upgrade listener stays until `dispose`, so that upgrades arriving
    // while clients are being closed get a 503 instead of a dropped socket.
    this.closing = true;
    clearInterval(this.heartbeatTimer);

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
    this.admitUpgrade(server, request, socket, head).catch((error: unknown) => {
      this.logger.error('Upgrade failed', error);
      socket.destroy();
    });
  }

  private async admitUpgrade(
    server: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> {
    const admission = await this.gate.admit(request);
    if (!admission.ok) {
      rejectUpgrade(socket, admission.status, admission.reason);
      return;
    }
    if (socket.destroyed) {
      this.gate.release(admission.context);
      return;
    }

    socket.once('close', () => this.gate.release(admission.context));
    this.upgradeContexts.set(request, admission.context);
    // The request comes back as an argument instead of being captured: the
    // 'close' listener above shares this scope and lives as long as the
    // connection, and would otherwise keep the request and its headers.
    server.handleUpgrade(request, socket, head, (ws, upgradeRequest) =>
      server.emit('connection', ws, upgradeRequest),
    );
  }

  /** Applies the per-connection limits to a newly registered connection. */
  private protect(socket: WebSocket, request: IncomingMessage): void {
    const connection = this.registry.get(socket);
    if (!connection) {
      return;
    }
    const context = this.upgradeContexts.get(request);
    if (context) {
      this.contexts.set(connection, context);
    }
    this.guards.set(
      socket,
      new ConnectionGuard(this.security, performance.now()),
    );

    // Every frame the services send to this connection passes here, so the
    // send buffer is checked right after each one is queued.
    const send = connection.send.bind(connection);
    connection.send = (frame: string) => {
      send(frame);
      this.enforceSendBuffer(socket);
    };

    const { joinTimeoutMs } = this.security;
    if (joinTimeoutMs === 0) {
      return;
    }
    const timer = setTimeout(() => {
      if (connection.rooms.size > 0 || socket.readyState !== WebSocket.OPEN) {
        return;
      }
      this.logger.log(
        `Connection ${connection.id} closed: no room joined within ${joinTimeoutMs} ms (JOIN_TIMEOUT_MS)`,
        { connectionId: connection.id },
      );
      socket.close(
        CloseCode.POLICY_VIOLATION,
        'no JOIN_ROOM within JOIN_TIMEOUT_MS',
      );
    }, joinTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /** Closes a slow reader with 1013 once its send buffer passes `MAX_BUFFERED_BYTES`. */
  private enforceSendBuffer(socket: WebSocket): void {
    const guard = this.guards.get(socket);
    if (
      !guard?.sendBufferExceeded(socket.bufferedAmount) ||
      socket.readyState !== WebSocket.OPEN
    ) {
      return;
    }
    const id = this.registry.get(socket)?.id ?? 'unregistered';
    this.logger.warn(
      `Connection ${id} closed: ${socket.bufferedAmount} bytes wait to be sent to it, above MAX_BUFFERED_BYTES (${this.security.maxBufferedBytes})`,
      { connectionId: id },
    );
    socket.close(CloseCode.TRY_AGAIN_LATER, 'send buffer full: read faster');
    setTimeout(() => socket.terminate(), ABUSER_CLOSE_GRACE_MS).unref();
  }

  /** Sends `RATE_LIMITED` for a dropped message, logging only the first one of a 10 s window. */
  private rejectRateLimited(socket: WebSocket, firstInWindow: boolean): void {
    const { rateLimitPerSecond, rateLimitBurst } = this.security;
    if (firstInWindow) {
      const id = this.registry.get(socket)?.id ?? 'unregistered';
      this.logger.log(
        `Connection ${id} is rate-limited (RATE_LIMIT_PER_SECOND ${rateLimitPerSecond}, burst ${rateLimitBurst})`,
        { connectionId: id },
      );
    }
    this.events.emit('rejected', { code: ErrorCode.RATE_LIMITED });
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(
        errorFrame({
          code: ErrorCode.RATE_LIMITED,
          message: `Too many messages: at most ${rateLimitPerSecond} per second (RATE_LIMIT_PER_SECOND) with bursts of ${rateLimitBurst}; this message was dropped, send it again later`,
        }),
      );
      this.enforceSendBuffer(socket);
    }
  }

  private closeForAbuse(socket: WebSocket): void {
    if (socket.readyState !== WebSocket.OPEN) {
      return;
    }
    const id = this.registry.get(socket)?.id ?? 'unregistered';
    this.logger.warn(
      `Connection ${id} closed: more than RATE_LIMIT_CLOSE_AFTER (${this.security.rateLimitCloseAfter}) rate-limited messages`,
      { connectionId: id },
    );
    socket.close(CloseCode.POLICY_VIOLATION, 'rate limit exceeded');
    setTimeout(() => socket.terminate(), ABUSER_CLOSE_GRACE_MS).unref();
  }

  private startHeartbeat(server: WebSocketServer): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      for (const socket of server.clients) {
        if (!alive.has(socket)) {
          const id = this.registry.get(socket)?.id ?? 'unregistered';
          this.logger.log(
            `Connection ${id} missed a heartbeat and was terminated`,
            { connectionId: id },
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
        const eventId = validEventId(frame.data);
        this.reject(socket, {
          code: ErrorCode.UNKNOWN_EVENT,
          message: `Unknown event "${echo(frame.event)}"`,
          event: echo(frame.event),
          ...(eventId !== undefined && { eventId }),
        });
        return;
      }

      const response = await callback(frame.data, frame.event);
      if (response !== undefined && socket.readyState === WebSocket.OPEN) {
        socket.send(
          typeof response === 'string' ? response : JSON.stringify(response),
        );
        this.enforceSendBuffer(socket);
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

  /** Parses a frame, or sends `INVALID_MESSAGE` and returns `undefined` when it is not one. */
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

    if (nestsDeeperThan(message, MAX_FRAME_DEPTH)) {
      this.reject(socket, {
        code: ErrorCode.INVALID_MESSAGE,
        message: `Frame nests arrays and objects deeper than ${MAX_FRAME_DEPTH} levels`,
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
      { connectionId: id, ...(error.event && { event: error.event }) },
    );
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(errorFrame(error));
      this.enforceSendBuffer(socket);
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

/** Returns the frame's `eventId` when it is a valid one, for the `ERROR` reply. */
function validEventId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  const { eventId } = data as Record<string, unknown>;
  return typeof eventId === 'string' && ID_PATTERN.test(eventId)
    ? eventId
    : undefined;
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
