import {
  ClientEvent,
  CloseCode,
  LeaveReason,
  ServerEvent,
  type AckData,
  type DeliveredData,
  type ErrorData,
  type PeerEventData,
  type Role,
  type RoomClosedData,
  type RoomJoinedData,
  type RoomLeftData,
} from '../protocol/index.js';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type BackoffOptions,
} from './backoff.js';
import { TypedEmitter } from './emitter.js';
import {
  ClientErrorCode,
  RelayClientError,
  RelayServerError,
} from './errors.js';
import { RelayRoom, type RelayedEvent, type RoomHost } from './relay-room.js';
import {
  globalWebSocket,
  OPEN_STATE,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionStateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Close code of the socket whose end caused the change, when there was one. */
  closeCode?: number;
}

export interface ReconnectScheduled {
  /** Index of this retry in the back-off since the last open socket, from 0. */
  attempt: number;
  delayMs: number;
}

/** Listener arguments of each event a client emits. */
export type ClientEventMap = {
  state: [ConnectionStateChange];
  reconnectScheduled: [ReconnectScheduled];
  /** The socket was dropped because no frame arrived within `livenessTimeoutMs`. */
  livenessTimeout: [];
  /**
   * A problem outside any pending request: `maxReconnectAttempts` reached,
   * or an `ERROR` that replies to no pending request (a rejected `RECEIVED`).
   */
  error: [Error];
};

export interface RelayClientOptions {
  /** WebSocket endpoint, such as `wss://relay.example.com/ws`. */
  url: string;
  /** WebSocket constructor; the global `WebSocket` by default. Pass `ws` in Node 20. */
  WebSocket?: WebSocketConstructor;
  /**
   * The device's id, sent in every join so that a re-join takes over the
   * old membership. Store it and pass it again after an app restart.
   * Default: a random UUID per client instance.
   */
  clientId?: string;
  /** Reconnect delays; see `BackoffOptions` for each default. */
  reconnect?: Partial<BackoffOptions>;
  /** Connection attempts that may fail in a row before the client stops. Default: no limit. */
  maxReconnectAttempts?: number;
  /** Time an attempt may take to open the socket, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Interval between the client's `PING` frames, in ms. Default 10 000. */
  pingIntervalMs?: number;
  /**
   * Silence after which the socket counts as dead and is replaced, in ms.
   * Every received frame counts, `PONG` included. The check runs every
   * `pingIntervalMs`, so detection takes up to the sum of both. Default 25 000.
   */
  livenessTimeoutMs?: number;
  /** Time a send or a first join waits for its reply, in ms, queueing included. Default 30 000. */
  requestTimeoutMs?: number;
  /** Time relayed events are batched before one `RECEIVED` confirms them, in ms. Default 100. */
  receiptDelayMs?: number;
  /** Source of randomness in [0, 1) for the jitter; `Math.random` by default. */
  random?: () => number;
}

export interface JoinRoomOptions {
  /** Overrides the client's `clientId` for this room. */
  clientId?: string;
  /**
   * Highest `seq` the app already has, for example from storage after an
   * app restart; events up to it are not handed again. Default 0.
   */
  lastSeq?: number;
  /** When the payment link expires, ISO 8601 (creator only). */
  expiresAt?: string;
  /** Join token, passed through in `JOIN_ROOM` when given. */
  token?: string;
}

type ResolvedOptions = Required<
  Omit<RelayClientOptions, 'reconnect' | 'clientId' | 'WebSocket'>
> & {
  reconnect: BackoffOptions;
  clientId: string;
  WebSocket: WebSocketConstructor;
};

/** Application close code the client uses when it drops a socket it considers dead. */
export const LIVENESS_CLOSE_CODE = 4000;
const NORMAL_CLOSURE = 1000;

/**
 * A device's connection to the payment relay. It reconnects with
 * exponential back-off and jitter, re-joins every room with the highest
 * `seq` it handed to the app, and keeps a stable `clientId`, so a room's
 * listeners see each event once, in order, across network failures.
 *
 * It depends on neither Nest nor Node: any WebSocket constructor with the
 * browser's API works.
 */
export class RelayClient extends TypedEmitter<ClientEventMap> {
  readonly options: ResolvedOptions;
  private currentState: ConnectionState = 'closed';
  private socket?: WebSocketLike;
  private readonly rooms = new Map<string, RelayRoom>();
  /** Rooms whose `JOIN_ROOM` on the current socket awaits a reply, in send order. */
  private pendingJoins: RelayRoom[] = [];
  private pendingLeaves: (() => void)[] = [];
  /** Connection attempts that failed in a row. */
  private failedAttempts = 0;
  /** Retries scheduled with a delay since the last open socket; indexes the back-off. */
  private retries = 0;
  private stopped = false;
  private started = false;
  private lastFrameAt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private connectTimer?: ReturnType<typeof setTimeout>;
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private readonly openWaiters: {
    resolve: () => void;
    reject: (error: Error) => void;
  }[] = [];
  private readonly host: RoomHost;

  constructor(options: RelayClientOptions) {
    super();
    const WebSocketClass = options.WebSocket ?? globalWebSocket();
    if (!WebSocketClass) {
      throw new RelayClientError(
        ClientErrorCode.INVALID_STATE,
        'No global WebSocket here: pass the constructor in the WebSocket option (in Node 20, the ws package)',
      );
    }
    const random = options.random ?? Math.random;
    this.options = {
      url: options.url,
      WebSocket: WebSocketClass,
      clientId: options.clientId ?? randomId(random),
      reconnect: { ...DEFAULT_BACKOFF, ...options.reconnect },
      maxReconnectAttempts: options.maxReconnectAttempts ?? Infinity,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      livenessTimeoutMs: options.livenessTimeoutMs ?? 25_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      receiptDelayMs: options.receiptDelayMs ?? 100,
      random,
    };
    this.host = this.createRoomHost();
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** Rooms joined or being joined, by room id. */
  room(roomId: string): RelayRoom | undefined {
    return this.rooms.get(roomId);
  }

  /**
   * Opens the connection and keeps it open until `close()`.
   * @returns a promise that resolves when a socket is open; a failed
   *   attempt is retried, so it rejects only when the client stops first.
   */
  connect(): Promise<void> {
    if (this.stopped) {
      return Promise.reject(
        new RelayClientError(
          ClientErrorCode.INVALID_STATE,
          'This client was closed; create a new RelayClient',
        ),
      );
    }
    if (this.currentState === 'open') {
      return Promise.resolve();
    }
    const opened = new Promise<void>((resolve, reject) =>
      this.openWaiters.push({ resolve, reject }),
    );
    if (!this.started) {
      this.started = true;
      this.openSocket();
    }
    return opened;
  }

  /**
   * Joins a room, or queues the join until the connection is open. The
   * client re-joins it after every reconnect until `leave()`.
   * @returns the room once the server sent `ROOM_JOINED`.
   * @throws RelayServerError when the server rejects the join.
   */
  joinRoom(
    roomId: string,
    role: Role,
    options: JoinRoomOptions = {},
  ): Promise<RelayRoom> {
    if (this.stopped) {
      return Promise.reject(
        new RelayClientError(
          ClientErrorCode.INVALID_STATE,
          `Cannot join room "${roomId}": this client was closed`,
        ),
      );
    }
    if (this.rooms.has(roomId)) {
      return Promise.reject(
        new RelayClientError(
          ClientErrorCode.INVALID_STATE,
          `Room "${roomId}" is already joined by this client; leave it first`,
        ),
      );
    }

    const room = new RelayRoom(this.host, roomId, role, {
      clientId: options.clientId ?? this.options.clientId,
      lastSeq: options.lastSeq,
      expiresAt: options.expiresAt,
      token: options.token,
    });
    this.rooms.set(roomId, room);
    const joined = room.waitForFirstJoin();
    if (this.isOpen()) {
      this.requestJoin(room);
    }
    return joined;
  }

  /** Leaves a room; does nothing when the client is not in it. */
  async leaveRoom(roomId: string): Promise<void> {
    await this.rooms.get(roomId)?.leave();
  }

  /**
   * Closes the connection for good. Pending sends and joins are rejected
   * with `CLIENT_CLOSED`; the server removes the memberships.
   */
  close(): void {
    this.stop(
      new RelayClientError(
        ClientErrorCode.CLIENT_CLOSED,
        'The client was closed before the reply arrived',
      ),
    );
  }

  private createRoomHost(): RoomHost {
    return {
      requestTimeoutMs: this.options.requestTimeoutMs,
      receiptDelayMs: this.options.receiptDelayMs,
      isOpen: () => this.isOpen(),
      sendFrame: (event, data) => this.sendFrame(event, data),
      requestJoin: (room) => this.requestJoin(room),
      requestLeave: (room) => this.requestLeave(room),
      forget: (room) => {
        if (this.rooms.get(room.roomId) === room) {
          this.rooms.delete(room.roomId);
        }
        this.pendingJoins = this.pendingJoins.filter((entry) => entry !== room);
      },
      generateId: () => randomId(this.options.random),
    };
  }

  private isOpen(): boolean {
    return (
      this.currentState === 'open' && this.socket?.readyState === OPEN_STATE
    );
  }

  private sendFrame(event: string, data: unknown): void {
    if (!this.socket || !this.isOpen()) {
      return;
    }
    this.socket.send(JSON.stringify({ event, data }));
  }

  private requestJoin(room: RelayRoom): void {
    this.pendingJoins.push(room);
    this.sendFrame(ClientEvent.JOIN_ROOM, room.joinData());
  }

  private requestLeave(room: RelayRoom): Promise<void> {
    if (!this.isOpen()) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.pendingLeaves.push(resolve);
      this.sendFrame(ClientEvent.LEAVE_ROOM, { roomId: room.roomId });
    });
  }

  private setState(state: ConnectionState, closeCode?: number): void {
    const previous = this.currentState;
    if (previous === state) {
      return;
    }
    this.currentState = state;
    this.emit('state', {
      state,
      previous,
      ...(closeCode !== undefined && { closeCode }),
    });
  }

  private openSocket(): void {
    this.reconnectTimer = undefined;
    // Later attempts keep the `reconnecting` state their scheduling set.
    if (this.currentState === 'closed') {
      this.setState('connecting');
    }
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.options.url);
    } catch (error) {
      this.stop(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.socket = socket;

    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (event) => this.handleMessage(socket, event.data);
    socket.onclose = (event) => this.handleClose(socket, event.code);
    // An error is always followed by a close, which does the work.
    socket.onerror = () => undefined;
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket && this.currentState !== 'open') {
        this.dropSocket(socket);
        this.afterSocketEnd(undefined);
      }
    }, this.options.connectTimeoutMs);
  }

  private handleOpen(socket: WebSocketLike): void {
    if (socket !== this.socket) {
      return;
    }
    clearTimeout(this.connectTimer);
    this.failedAttempts = 0;
    this.retries = 0;
    this.lastFrameAt = Date.now();
    this.setState('open');
    this.startHeartbeat(socket);
    for (const waiter of this.openWaiters.splice(0)) {
      waiter.resolve();
    }
    for (const room of this.rooms.values()) {
      this.requestJoin(room);
    }
  }

  private handleClose(socket: WebSocketLike, code: number): void {
    if (socket !== this.socket) {
      return;
    }
    this.detach(socket);
    this.afterSocketEnd(code);
  }

  /** Cleans up after the current socket ended and schedules the next attempt. */
  private afterSocketEnd(code: number | undefined): void {
    const wasOpen = this.currentState === 'open';
    this.socket = undefined;
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeatTimer);
    this.pendingJoins = [];
    for (const resolve of this.pendingLeaves.splice(0)) {
      resolve();
    }
    for (const room of this.rooms.values()) {
      room.handleDisconnect();
    }
    if (this.stopped) {
      return;
    }

    if (!wasOpen) {
      this.failedAttempts += 1;
    }
    if (this.failedAttempts >= this.options.maxReconnectAttempts) {
      const error = new RelayClientError(
        ClientErrorCode.RECONNECT_FAILED,
        `Could not connect to ${this.options.url} in ${this.failedAttempts} attempts in a row (maxReconnectAttempts); check the URL and the network, then create a new client`,
      );
      this.emit('error', error);
      this.stop(error, code);
      return;
    }

    // 1001 and 1012 announce a deploy or a restart, not a network problem.
    const immediate =
      code === CloseCode.GOING_AWAY || code === CloseCode.SERVICE_RESTART;
    const attempt = this.retries;
    let delayMs = 0;
    if (!immediate) {
      delayMs = backoffDelay(
        attempt,
        this.options.reconnect,
        this.options.random,
      );
      this.retries += 1;
    }
    this.setState('reconnecting', code);
    this.emit('reconnectScheduled', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => this.openSocket(), delayMs);
  }

  private startHeartbeat(socket: WebSocketLike): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (socket !== this.socket) {
        return;
      }
      if (Date.now() - this.lastFrameAt >= this.options.livenessTimeoutMs) {
        this.emit('livenessTimeout');
        this.dropSocket(socket);
        this.afterSocketEnd(LIVENESS_CLOSE_CODE);
        return;
      }
      this.sendFrame(ClientEvent.PING, undefined);
    }, this.options.pingIntervalMs);
  }

  private handleMessage(socket: WebSocketLike, raw: unknown): void {
    if (socket !== this.socket) {
      return;
    }
    this.lastFrameAt = Date.now();
    if (typeof raw !== 'string') {
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) {
      return;
    }
    const { event, data } = frame as { event?: unknown; data?: unknown };
    if (typeof event !== 'string' || typeof data !== 'object' || !data) {
      return;
    }
    this.route(event, data as Record<string, unknown>);
  }

  private route(event: string, data: Record<string, unknown>): void {
    const room =
      typeof data.roomId === 'string' ? this.rooms.get(data.roomId) : undefined;
    switch (event) {
      case ServerEvent.ROOM_JOINED:
        this.pendingJoins = this.pendingJoins.filter((entry) => entry !== room);
        room?.handleJoined(data as unknown as RoomJoinedData);
        return;
      case ServerEvent.ROOM_LEFT:
        this.handleRoomLeft(room, data as unknown as RoomLeftData);
        return;
      case ServerEvent.ROOM_CLOSED:
        room?.handleClosed(data as unknown as RoomClosedData);
        return;
      case ServerEvent.PEER_JOINED:
        room?.handlePeerJoined(data as unknown as PeerEventData);
        return;
      case ServerEvent.PEER_LEFT:
        room?.handlePeerLeft(data as unknown as PeerEventData);
        return;
      case ServerEvent.ACK:
        room?.handleAck(data as unknown as AckData);
        return;
      case ServerEvent.DELIVERED:
        room?.handleDelivered(data as unknown as DeliveredData);
        return;
      case ServerEvent.ERROR:
        this.handleError(data as unknown as ErrorData);
        return;
      case ServerEvent.PONG:
        return;
    }
    if (room && typeof data.seq === 'number') {
      room.handleRelayed({ event, data } as RelayedEvent);
    }
  }

  private handleRoomLeft(
    room: RelayRoom | undefined,
    data: RoomLeftData,
  ): void {
    if (data.reason === LeaveReason.REPLACED) {
      room?.handleReplaced();
      return;
    }
    this.pendingLeaves.shift()?.();
  }

  /**
   * Routes an `ERROR` to the request it replies to. The server handles one
   * connection's frames in order, so an `ERROR` for `JOIN_ROOM` or
   * `LEAVE_ROOM` belongs to the oldest pending join or leave.
   */
  private handleError(error: ErrorData): void {
    if (error.event === ClientEvent.JOIN_ROOM) {
      this.pendingJoins.shift()?.handleJoinRejected(error);
      return;
    }
    if (error.event === ClientEvent.LEAVE_ROOM) {
      this.pendingLeaves.shift()?.();
      return;
    }
    if (error.eventId !== undefined) {
      for (const room of this.rooms.values()) {
        if (room.handleSendError(error)) {
          return;
        }
      }
    }
    this.emit('error', new RelayServerError(error));
  }

  /** Drops a socket without waiting for a closing handshake that the peer may never complete. */
  private dropSocket(socket: WebSocketLike): void {
    this.detach(socket);
    try {
      if (socket.terminate) {
        socket.terminate();
      } else {
        socket.close(LIVENESS_CLOSE_CODE, 'no traffic from the server');
      }
    } catch {
      // The socket is already unusable; nothing more to release.
    }
  }

  private detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Closing a socket that is still connecting makes `ws` emit an error,
    // which would be uncaught without a handler.
    socket.onerror = () => undefined;
  }

  private stop(error: Error, closeCode?: number): void {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeatTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      this.detach(socket);
      try {
        socket.close(NORMAL_CLOSURE, 'client closed');
      } catch {
        // Closing a socket that is still connecting throws in some implementations.
        socket.terminate?.();
      }
    }
    for (const room of [...this.rooms.values()]) {
      room.end(error, false);
    }
    for (const waiter of this.openWaiters.splice(0)) {
      waiter.reject(error);
    }
    for (const resolve of this.pendingLeaves.splice(0)) {
      resolve();
    }
    this.setState('closed', closeCode);
  }
}

/** Returns a random UUID where the platform has one, else 32 random hex digits. */
function randomId(random: () => number): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } })
    .crypto;
  if (crypto?.randomUUID) {
    return crypto.randomUUID();
  }
  let id = '';
  for (let i = 0; i < 32; i += 1) {
    id += Math.floor(random() * 16).toString(16);
  }
  return id;
}
