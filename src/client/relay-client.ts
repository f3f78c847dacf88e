import {
  ClientEvent,
  CloseCode,
  ErrorCode,
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
import {
  RelayRoom,
  type RelayedEvent,
  type RoomHost,
  type UnansweredRequest,
} from './relay-room.js';
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
   * A problem outside any pending request: the client stopped reconnecting
   * (`maxReconnectAttempts` reached, a 1008 close, an upgrade rejected with
   * 401 or 403), or an `ERROR` that replies to no pending request (a
   * rejected `RECEIVED`).
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
  /**
   * Connection attempts that may fail in a row before the client stops.
   * Default: no limit. A 1008 close and an upgrade rejected with 401 or 403
   * stop the client at once, whatever this limit.
   */
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
 * HTTP statuses of a rejected upgrade after which reconnecting cannot help:
 * a missing or invalid token (401) or a forbidden origin (403). The `ws`
 * package reports the status in its error message; browsers do not, so
 * there the client keeps retrying with back-off.
 */
const FINAL_UPGRADE_STATUSES: ReadonlySet<number> = new Set([401, 403]);
const UPGRADE_STATUS_PATTERN = /Unexpected server response: (\d{3})/;

/** The `JOIN_ROOM` that awaits its reply on the current socket. */
interface JoinInFlight {
  room: RelayRoom;
  data: Record<string, unknown>;
  /** Position of its latest transmission; `Infinity` once a `RATE_LIMITED` took it. */
  transmission: number;
  /** Callers of `leave()` for this room, resolved once it is out of the server. */
  leaveWaiters: (() => void)[];
}

interface PendingLeave {
  roomId: string;
  resolve: () => void;
  transmission: number;
}

/**
 * A device's connection to the payment relay. It reconnects with
 * exponential back-off and jitter, re-joins every room with the highest
 * `seq` up to which it has every event, and keeps a stable `clientId`, so a
 * room's listeners see each event once, in order, across network failures.
 *
 * It depends on neither Nest nor Node: any WebSocket constructor with the
 * browser's API works.
 */
export class RelayClient extends TypedEmitter<ClientEventMap> {
  readonly options: ResolvedOptions;
  private currentState: ConnectionState = 'closed';
  private socket?: WebSocketLike;
  private readonly rooms = new Map<string, RelayRoom>();
  /**
   * Rooms waiting to send `JOIN_ROOM` on the current socket, in request
   * order. One join is in flight at a time, because the server's `ERROR`
   * for a join does not name the room.
   */
  private joinQueue: RelayRoom[] = [];
  // NOTE: a join whose reply never arrives holds the queue until the socket
  // ends; the server replies to every JOIN_ROOM, so only a server fault does it.
  private joinInFlight?: JoinInFlight;
  private pendingLeaves: PendingLeave[] = [];
  /** Order of the frames sent, for matching a `RATE_LIMITED` error to its request. */
  private transmissions = 0;
  /** `RATE_LIMITED` errors since the last accepted request; indexes the back-off. */
  private rateLimitedStreak = 0;
  private rateLimitTimer?: ReturnType<typeof setTimeout>;
  private readonly rateLimitedResends: (() => void)[] = [];
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
      requestLeave: (room, joined) => this.requestLeave(room, joined),
      forget: (room) => {
        if (this.rooms.get(room.roomId) === room) {
          this.rooms.delete(room.roomId);
        }
        // A join in flight stays, so that its reply is matched and undone.
        this.joinQueue = this.joinQueue.filter((entry) => entry !== room);
      },
      nextTransmission: () => this.nextTransmission(),
      backoffDelay: (attempt) =>
        backoffDelay(attempt, this.options.reconnect, this.options.random),
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

  private nextTransmission(): number {
    this.transmissions += 1;
    return this.transmissions;
  }

  private requestJoin(room: RelayRoom): void {
    if (!this.isOpen() || room.ended) {
      return;
    }
    if (this.joinInFlight?.room === room || this.joinQueue.includes(room)) {
      return;
    }
    this.joinQueue.push(room);
    this.sendNextJoin();
  }

  /** Sends the oldest queued `JOIN_ROOM` unless another one awaits its reply. */
  private sendNextJoin(): void {
    while (!this.joinInFlight && this.isOpen()) {
      const room = this.joinQueue.shift();
      if (!room) {
        return;
      }
      if (room.ended) {
        continue;
      }
      const data = room.joinData();
      this.joinInFlight = {
        room,
        data,
        transmission: this.nextTransmission(),
        leaveWaiters: [],
      };
      this.sendFrame(ClientEvent.JOIN_ROOM, data);
    }
  }

  private requestLeave(room: RelayRoom, joined: boolean): Promise<void> {
    const flight = this.joinInFlight;
    if (flight?.room === room) {
      return new Promise<void>((resolve) => flight.leaveWaiters.push(resolve));
    }
    if (!joined) {
      return Promise.resolve();
    }
    return this.sendLeave(room.roomId);
  }

  /** Sends `LEAVE_ROOM`; resolves on its reply, or at once when no socket is open. */
  private sendLeave(roomId: string): Promise<void> {
    if (!this.isOpen()) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.pendingLeaves.push({
        roomId,
        resolve,
        transmission: this.nextTransmission(),
      });
      this.sendFrame(ClientEvent.LEAVE_ROOM, { roomId });
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

    // An error is always followed by a close, which does the work. The `ws`
    // package names the HTTP status of a rejected upgrade in the error.
    let upgradeStatus: number | undefined;
    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (event) => this.handleMessage(socket, event.data);
    socket.onclose = (event) =>
      this.handleClose(socket, event.code, upgradeStatus);
    socket.onerror = (event) => {
      upgradeStatus = upgradeStatusOf(event);
    };
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

  private handleClose(
    socket: WebSocketLike,
    code: number,
    upgradeStatus: number | undefined,
  ): void {
    if (socket !== this.socket) {
      return;
    }
    this.detach(socket);
    this.afterSocketEnd(code, upgradeStatus);
  }

  /** Cleans up after the current socket ended and schedules the next attempt. */
  private afterSocketEnd(
    code: number | undefined,
    upgradeStatus?: number,
  ): void {
    const wasOpen = this.currentState === 'open';
    this.socket = undefined;
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeatTimer);
    this.clearRequests();
    for (const room of this.rooms.values()) {
      room.handleDisconnect();
    }
    if (this.stopped) {
      return;
    }

    const finalError = this.finalCloseError(code, upgradeStatus);
    if (finalError) {
      this.emit('error', finalError);
      this.stop(finalError, code);
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
        this.handleRoomJoined(data as unknown as RoomJoinedData);
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
        this.rateLimitedStreak = 0;
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

  /**
   * Hands `ROOM_JOINED` to the room whose join is in flight. A room left
   * while its join was in flight is taken out of the server again.
   */
  private handleRoomJoined(data: RoomJoinedData): void {
    const flight = this.joinInFlight;
    if (flight?.room.roomId !== data.roomId) {
      // A second reply to a re-sent JOIN_ROOM, whose first reply was handled.
      return;
    }
    this.joinInFlight = undefined;
    this.rateLimitedStreak = 0;
    if (flight.room.ended) {
      const waiters = flight.leaveWaiters;
      void this.sendLeave(data.roomId).then(() => settle(waiters));
    } else {
      flight.room.handleJoined(data);
    }
    this.sendNextJoin();
  }

  private handleRoomLeft(
    room: RelayRoom | undefined,
    data: RoomLeftData,
  ): void {
    if (data.reason === LeaveReason.REPLACED) {
      room?.handleReplaced();
      return;
    }
    const index = this.pendingLeaves.findIndex(
      (leave) => leave.roomId === data.roomId,
    );
    if (index >= 0) {
      this.pendingLeaves.splice(index, 1)[0].resolve();
    }
  }

  /**
   * Routes an `ERROR` to the request it replies to. The server handles one
   * connection's frames in order, so an `ERROR` for `JOIN_ROOM` belongs to
   * the one join in flight and one for `LEAVE_ROOM` to the oldest leave.
   */
  private handleError(error: ErrorData): void {
    if (
      error.code === ErrorCode.RATE_LIMITED &&
      error.event === undefined &&
      error.eventId === undefined &&
      this.resendDroppedRequest()
    ) {
      return;
    }
    if (error.event === ClientEvent.JOIN_ROOM) {
      const flight = this.joinInFlight;
      this.joinInFlight = undefined;
      if (flight?.room.ended) {
        settle(flight.leaveWaiters);
      } else {
        flight?.room.handleJoinRejected(error);
      }
      this.sendNextJoin();
      return;
    }
    if (error.event === ClientEvent.LEAVE_ROOM) {
      this.pendingLeaves.shift()?.resolve();
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

  /**
   * Handles a `RATE_LIMITED` error that names no request. The server replies
   * to one connection's frames in order, so the dropped frame is the oldest
   * request still awaiting its reply, or an older `PING` or `RECEIVED`,
   * which need no reply. That request is sent again after back-off; if it
   * was not the dropped one, the server answers the copy as a duplicate.
   * @returns false when no request awaits a reply.
   */
  private resendDroppedRequest(): boolean {
    const candidates: UnansweredRequest[] = [];
    const flight = this.joinInFlight;
    if (flight) {
      candidates.push({
        transmission: flight.transmission,
        markDropped: () => {
          flight.transmission = Infinity;
          return () => {
            if (this.joinInFlight === flight && this.isOpen()) {
              flight.transmission = this.nextTransmission();
              this.sendFrame(ClientEvent.JOIN_ROOM, flight.data);
            }
          };
        },
      });
    }
    for (const leave of this.pendingLeaves) {
      candidates.push({
        transmission: leave.transmission,
        markDropped: () => {
          leave.transmission = Infinity;
          return () => {
            if (this.pendingLeaves.includes(leave) && this.isOpen()) {
              leave.transmission = this.nextTransmission();
              this.sendFrame(ClientEvent.LEAVE_ROOM, { roomId: leave.roomId });
            }
          };
        },
      });
    }
    for (const room of this.rooms.values()) {
      const send = room.oldestUnansweredSend();
      if (send) {
        candidates.push(send);
      }
    }

    let oldest: UnansweredRequest | undefined;
    for (const candidate of candidates) {
      if (candidate.transmission < (oldest?.transmission ?? Infinity)) {
        oldest = candidate;
      }
    }
    if (!oldest) {
      return false;
    }
    this.rateLimitedResends.push(oldest.markDropped());
    if (this.rateLimitTimer === undefined) {
      const delayMs = backoffDelay(
        this.rateLimitedStreak,
        this.options.reconnect,
        this.options.random,
      );
      this.rateLimitedStreak += 1;
      this.rateLimitTimer = setTimeout(() => {
        this.rateLimitTimer = undefined;
        for (const resend of this.rateLimitedResends.splice(0)) {
          resend();
        }
      }, delayMs);
    }
    return true;
  }

  /** Forgets every request of the current socket; the rooms re-join on the next one. */
  private clearRequests(): void {
    this.joinQueue = [];
    const flight = this.joinInFlight;
    this.joinInFlight = undefined;
    if (flight) {
      settle(flight.leaveWaiters);
    }
    for (const leave of this.pendingLeaves.splice(0)) {
      leave.resolve();
    }
    clearTimeout(this.rateLimitTimer);
    this.rateLimitTimer = undefined;
    this.rateLimitedResends.length = 0;
    this.rateLimitedStreak = 0;
  }

  /** Returns the error that ends the client after a close, or `undefined` to reconnect. */
  private finalCloseError(
    code: number | undefined,
    upgradeStatus: number | undefined,
  ): RelayClientError | undefined {
    if (code === CloseCode.POLICY_VIOLATION) {
      return new RelayClientError(
        ClientErrorCode.POLICY_VIOLATION,
        `The server at ${this.options.url} closed the connection with 1008 (policy violation): it joined no room within the server's JOIN_TIMEOUT_MS, or kept exceeding the message rate limit; join a room right after connect() and create a new client`,
      );
    }
    if (
      upgradeStatus !== undefined &&
      FINAL_UPGRADE_STATUSES.has(upgradeStatus)
    ) {
      return new RelayClientError(
        ClientErrorCode.UPGRADE_REJECTED,
        `The server at ${this.options.url} rejected the WebSocket upgrade with HTTP ${upgradeStatus}: check the connection token and the page's origin, then create a new client`,
      );
    }
    return undefined;
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
    this.clearRequests();
    this.setState('closed', closeCode);
  }
}

function settle(waiters: (() => void)[]): void {
  for (const resolve of waiters.splice(0)) {
    resolve();
  }
}

/** Returns the HTTP status of a rejected upgrade from a socket's error event, when it names one. */
function upgradeStatusOf(event: unknown): number | undefined {
  const { message, error } = (event ?? {}) as {
    message?: unknown;
    error?: { message?: unknown };
  };
  const text =
    typeof message === 'string'
      ? message
      : typeof error?.message === 'string'
        ? error.message
        : '';
  const match = UPGRADE_STATUS_PATTERN.exec(text);
  return match ? Number(match[1]) : undefined;
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
