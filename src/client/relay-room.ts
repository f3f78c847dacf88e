import {
  ClientEvent,
  FLOW_EVENTS,
  RoomStatus,
  type AckData,
  type DeliveredData,
  type ErrorData,
  type FlowEventFields,
  type FlowEventName,
  type Frame,
  type Peer,
  type PeerEventData,
  type RelayedEventData,
  type Role,
  type RoomClosedData,
  type RoomJoinedData,
} from '../protocol/index.js';
import { TypedEmitter } from './emitter.js';
import {
  ClientErrorCode,
  RelayClientError,
  RelayServerError,
} from './errors.js';
import { statusAfter } from './room-status.js';

/** A relayed flow event as the server sent it. */
export type RelayedEvent = Frame<string, RelayedEventData>;

/** Data of a relayed built-in flow event: the server's fields and the event's own. */
export type RelayedPayload<K extends FlowEventName> = RelayedEventData &
  FlowEventFields[K];

export interface RoomJoinedInfo {
  roomId: string;
  clientId: string;
  role: Role;
  /** The room's latest `seq` when the server accepted the join. */
  seq: number;
  status: RoomStatus;
  peers: Peer[];
  /** False on the first join, true on every automatic re-join. */
  rejoin: boolean;
  /** True when the server's history no longer held every event after `lastSeq`. */
  truncated: boolean;
}

export interface StatusChange {
  roomId: string;
  status: RoomStatus;
  previous: RoomStatus;
}

/**
 * The room the client re-joined is not the one it left: the server lost it
 * (restart with the in-memory store, or removal after being idle) and
 * created a new, empty one. Events up to `previousSeq` are gone from the
 * server, and the new room counts `seq` from 1 again.
 */
export interface RoomReset {
  roomId: string;
  /** Highest `seq` the client knew of in the lost room. */
  previousSeq: number;
  /** The new room's `seq` at the re-join. */
  seq: number;
}

/**
 * Events after `lastSeq` that the server's history (`ROOM_HISTORY_LIMIT`)
 * no longer held at the join: the app never receives them and should read
 * the payment's final state another way.
 */
export interface RoomTruncation {
  roomId: string;
  /** Highest `seq` the client had handed to the app before the join. */
  lastSeq: number;
  /** The room's `seq` at the join. */
  seq: number;
}

/** Listener arguments of each event a room emits. */
export type RoomEventMap = {
  /** Every relayed flow event, built-in or registered, once each, in `seq` order. */
  event: [RelayedEvent];
  joined: [RoomJoinedInfo];
  status: [StatusChange];
  peerJoined: [PeerEventData];
  peerLeft: [PeerEventData];
  /** A creator confirmed events up to `seq` (sent to the payer only). */
  delivered: [DeliveredData];
  reset: [RoomReset];
  truncated: [RoomTruncation];
  /** The server closed the room; `stopped` follows. */
  closed: [RoomClosedData];
  /** The room ended without `leave()`: replaced, closed or its re-join rejected. */
  stopped: [Error];
} & { [K in FlowEventName]: [RelayedPayload<K>] };

/** Options of one send. */
export interface SendOptions {
  /**
   * Idempotency key; a new one is generated when absent. Pass the id of a
   * send that timed out to retry it without risking a second effect.
   */
  eventId?: string;
}

/** Services the owning client provides to a room. */
export interface RoomHost {
  readonly requestTimeoutMs: number;
  readonly receiptDelayMs: number;
  /** True while a socket is open. */
  isOpen(): boolean;
  /** Sends a frame on the open socket. */
  sendFrame(event: string, data: unknown): void;
  /** Sends `JOIN_ROOM` for the room and expects its reply. */
  requestJoin(room: RelayRoom): void;
  /** Removes an ended room from the client. */
  forget(room: RelayRoom): void;
  /** Sends `LEAVE_ROOM` and waits for its reply when the socket is open. */
  requestLeave(room: RelayRoom): Promise<void>;
  generateId(): string;
}

export interface JoinSettings {
  clientId: string;
  lastSeq?: number;
  expiresAt?: string;
  token?: string;
}

interface PendingSend {
  event: string;
  data: Record<string, unknown> & { roomId: string; eventId: string };
  /** Join generation the frame was last sent in; -1 when never sent. */
  generation: number;
  resolve: (ack: AckData) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Phase = 'joining' | 'joined' | 'ended';

const BUILT_IN_EVENTS: ReadonlySet<string> = new Set(FLOW_EVENTS);

/**
 * One room joined through a `RelayClient`. It survives reconnects: the
 * client re-joins it with `lastSeq`, hands each relayed event to the
 * listeners once and in `seq` order, re-sends unacknowledged events with
 * their `eventId`, and confirms handed events to the server with `RECEIVED`.
 */
export class RelayRoom extends TypedEmitter<RoomEventMap> {
  private phase: Phase = 'joining';
  private handedSeq: number;
  /** Highest `seq` known to exist in the room: relayed, acknowledged or reported at a join. */
  private knownSeq = 0;
  /** `seq` that `currentStatus` reflects. */
  private statusSeq = 0;
  private currentStatus: RoomStatus = RoomStatus.OPEN;
  private currentPeers: Peer[] = [];
  private createdAt?: string;
  private joinGeneration = 0;
  private joinedBefore = false;
  /** `seq` of the join request in flight, to report truncation. */
  private requestedLastSeq = 0;
  /** Live events that arrived before the reply to the join in flight. */
  private readonly early: RelayedEvent[] = [];
  private readonly outgoing: PendingSend[] = [];
  /** Highest `seq` sent in `RECEIVED` since the latest join. */
  private confirmedSeq = 0;
  private receiptTimer?: ReturnType<typeof setTimeout>;
  /** Highest `DELIVERED.seq` reported per creator `clientId`. */
  private readonly deliveredSeqs = new Map<string, number>();
  private firstJoin?: {
    resolve: (room: RelayRoom) => void;
    reject: (error: Error) => void;
    timer: ReturnType<typeof setTimeout>;
  };

  /** @internal Created by `RelayClient.joinRoom`. */
  constructor(
    private readonly host: RoomHost,
    readonly roomId: string,
    readonly role: Role,
    private readonly settings: JoinSettings,
  ) {
    super();
    this.handedSeq = settings.lastSeq ?? 0;
    this.knownSeq = this.handedSeq;
  }

  get clientId(): string {
    return this.settings.clientId;
  }

  /** Highest `seq` handed to the listeners; the next re-join sends it as `lastSeq`. */
  get lastSeq(): number {
    return this.handedSeq;
  }

  /** The room's status, derived from the join snapshot and the accepted events since. */
  get status(): RoomStatus {
    return this.currentStatus;
  }

  get peers(): readonly Peer[] {
    return this.currentPeers;
  }

  /** True from the server's `ROOM_JOINED` until the connection breaks. */
  get joined(): boolean {
    return this.phase === 'joined';
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  enteredSummary(options?: SendOptions): Promise<AckData> {
    return this.send(ClientEvent.ENTERED_SUMMARY, {}, options);
  }

  clickedProceed(options?: SendOptions): Promise<AckData> {
    return this.send(ClientEvent.CLICKED_PROCEED, {}, options);
  }

  /** @param method an upper-case identifier such as `PIX` or `CREDIT_CARD`. */
  paymentMethodChanged(
    method: string,
    options?: SendOptions,
  ): Promise<AckData> {
    return this.send(ClientEvent.PAYMENT_METHOD_CHANGED, { method }, options);
  }

  /** @param fields names of the completed form fields, never their values. */
  dataFilled(fields?: string[], options?: SendOptions): Promise<AckData> {
    return this.send(
      ClientEvent.DATA_FILLED,
      fields === undefined ? {} : { fields },
      options,
    );
  }

  clickedPay(options?: SendOptions): Promise<AckData> {
    return this.send(ClientEvent.CLICKED_PAY, {}, options);
  }

  paymentSucceeded(
    details: FlowEventFields['PAYMENT_SUCCESS'] = {},
    options?: SendOptions,
  ): Promise<AckData> {
    return this.send(ClientEvent.PAYMENT_SUCCESS, { ...details }, options);
  }

  paymentFailed(
    code: string,
    message?: string,
    options?: SendOptions,
  ): Promise<AckData> {
    return this.send(
      ClientEvent.PAYMENT_ERROR,
      message === undefined ? { code } : { code, message },
      options,
    );
  }

  /**
   * Sends a flow event, built-in or registered by the application. While
   * the connection is down, the event waits in a queue. An event sent but
   * not acknowledged when the connection broke is sent again after the
   * re-join with the same `eventId`, so the server applies it once.
   * @returns the server's `ACK`.
   * @throws RelayServerError when the server answers `ERROR`.
   * @throws RelayClientError `TIMEOUT` after `requestTimeoutMs` without a
   *   reply, counted from this call; the event is not sent again after that.
   */
  send(
    event: string,
    fields: Record<string, unknown> = {},
    options: SendOptions = {},
  ): Promise<AckData> {
    if (this.phase === 'ended') {
      return Promise.reject(
        new RelayClientError(
          ClientErrorCode.INVALID_STATE,
          `Cannot send ${event}: room "${this.roomId}" was left or stopped`,
        ),
      );
    }

    const eventId = options.eventId ?? this.host.generateId();
    return new Promise<AckData>((resolve, reject) => {
      const pending: PendingSend = {
        event,
        data: { ...fields, roomId: this.roomId, eventId },
        generation: -1,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removePending(pending);
          reject(
            new RelayClientError(
              ClientErrorCode.TIMEOUT,
              `No reply to ${event} ${eventId} in room "${this.roomId}" within ${this.host.requestTimeoutMs} ms; retry with the same eventId to avoid a second effect`,
            ),
          );
        }, this.host.requestTimeoutMs),
      };
      this.outgoing.push(pending);
      if (this.phase === 'joined' && this.host.isOpen()) {
        this.transmit(pending);
      }
    });
  }

  /** Leaves the room. Pending sends are rejected with `ROOM_LEFT`. */
  async leave(): Promise<void> {
    if (this.phase === 'ended') {
      return;
    }
    const wasJoined = this.phase === 'joined';
    this.end(
      new RelayClientError(
        ClientErrorCode.ROOM_LEFT,
        `Left room "${this.roomId}" before the reply arrived`,
      ),
      false,
    );
    if (wasJoined) {
      await this.host.requestLeave(this);
    }
  }

  /** @internal Resolves on the first `ROOM_JOINED`, rejects when the room ends first. */
  waitForFirstJoin(): Promise<RelayRoom> {
    return new Promise((resolve, reject) => {
      this.firstJoin = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.end(
            new RelayClientError(
              ClientErrorCode.TIMEOUT,
              `No reply to JOIN_ROOM for room "${this.roomId}" within ${this.host.requestTimeoutMs} ms`,
            ),
            false,
          );
        }, this.host.requestTimeoutMs),
      };
    });
  }

  /** @internal Data of the `JOIN_ROOM` that (re-)joins the room now. */
  joinData(): Record<string, unknown> {
    this.phase = 'joining';
    this.early.length = 0;
    this.requestedLastSeq = this.handedSeq;
    const data: Record<string, unknown> = {
      roomId: this.roomId,
      role: this.role,
      clientId: this.settings.clientId,
      lastSeq: this.handedSeq,
    };
    const { expiresAt, token } = this.settings;
    // A past expiresAt is rejected by the server; the room then closes on its own.
    if (expiresAt !== undefined && Date.parse(expiresAt) > Date.now()) {
      data.expiresAt = expiresAt;
    }
    if (token !== undefined) {
      data.token = token;
    }
    return data;
  }

  /** @internal */
  handleJoined(data: RoomJoinedData): void {
    if (this.phase === 'ended') {
      return;
    }
    if (this.isRecreated(data)) {
      this.reset(data);
      if (data.seq > 0) {
        // The join asked only for events after the old lastSeq, so the new
        // room's first events are missing: join again from seq 0.
        this.host.requestJoin(this);
        return;
      }
    }

    this.createdAt = data.createdAt;
    this.currentPeers = [...data.peers];
    this.joinGeneration += 1;
    this.confirmedSeq = 0;
    if (data.truncated) {
      this.emit('truncated', {
        roomId: this.roomId,
        lastSeq: this.requestedLastSeq,
        seq: data.seq,
      });
    }

    for (const frame of data.missed) {
      this.hand(frame);
    }
    this.knownSeq = Math.max(this.knownSeq, data.seq);
    if (data.seq >= this.statusSeq) {
      this.statusSeq = data.seq;
      this.setStatus(data.status);
    }
    this.phase = 'joined';
    const early = this.early.splice(0).sort((a, b) => a.data.seq - b.data.seq);
    for (const frame of early) {
      this.hand(frame);
    }

    const rejoin = this.joinedBefore;
    this.joinedBefore = true;
    this.emit('joined', {
      roomId: this.roomId,
      clientId: data.clientId,
      role: data.role,
      seq: data.seq,
      status: this.currentStatus,
      peers: [...this.currentPeers],
      rejoin,
      truncated: data.truncated,
    });
    this.settleFirstJoin();
    for (const pending of [...this.outgoing]) {
      this.transmit(pending);
    }
    this.scheduleReceipt();
  }

  /** @internal A relayed flow event for this room. */
  handleRelayed(frame: RelayedEvent): void {
    if (this.phase === 'ended') {
      return;
    }
    if (this.phase === 'joining') {
      // The join's reply is still coming, and its `missed` contains older events.
      this.early.push(frame);
      return;
    }
    this.hand(frame);
  }

  /** @internal */
  handleAck(ack: AckData): boolean {
    const pending = this.outgoing.find(
      (candidate) => candidate.data.eventId === ack.eventId,
    );
    if (!pending) {
      return false;
    }
    this.removePending(pending);
    this.knownSeq = Math.max(this.knownSeq, ack.seq);
    if (ack.seq > this.statusSeq) {
      this.statusSeq = ack.seq;
      this.setStatus(statusAfter(this.currentStatus, ack.event));
    }
    pending.resolve(ack);
    return true;
  }

  /** @internal Rejects the pending send an `ERROR` names; false when none does. */
  handleSendError(error: ErrorData): boolean {
    const pending = this.outgoing.find(
      (candidate) =>
        candidate.data.eventId === error.eventId &&
        candidate.generation === this.joinGeneration,
    );
    if (!pending) {
      return false;
    }
    this.removePending(pending);
    pending.reject(new RelayServerError(error));
    return true;
  }

  /** @internal */
  handleJoinRejected(error: ErrorData): void {
    this.end(new RelayServerError(error), this.joinedBefore);
  }

  /** @internal */
  handleReplaced(): void {
    this.end(
      new RelayClientError(
        ClientErrorCode.REPLACED,
        `Another connection joined room "${this.roomId}" with client id "${this.clientId}", so this client stopped using the room; give each device its own clientId`,
      ),
      true,
    );
  }

  /** @internal */
  handleClosed(data: RoomClosedData): void {
    if (this.phase === 'ended') {
      return;
    }
    this.emit('closed', data);
    this.end(
      new RelayClientError(
        ClientErrorCode.ROOM_CLOSED,
        `The server closed room "${this.roomId}" (${data.reason})`,
      ),
      true,
    );
  }

  /** @internal */
  handlePeerJoined(peer: PeerEventData): void {
    this.currentPeers = this.currentPeers.filter(
      (existing) => existing.clientId !== peer.clientId,
    );
    this.currentPeers.push({ clientId: peer.clientId, role: peer.role });
    this.emit('peerJoined', peer);
  }

  /** @internal */
  handlePeerLeft(peer: PeerEventData): void {
    this.currentPeers = this.currentPeers.filter(
      (existing) => existing.clientId !== peer.clientId,
    );
    this.emit('peerLeft', peer);
  }

  /** @internal Reports each creator's confirmed `seq` once; the server may repeat it after a re-join. */
  handleDelivered(data: DeliveredData): void {
    const previous = this.deliveredSeqs.get(data.clientId) ?? 0;
    if (data.seq <= previous) {
      return;
    }
    this.deliveredSeqs.set(data.clientId, data.seq);
    this.emit('delivered', data);
  }

  /** @internal The socket closed: the next open socket re-joins. */
  handleDisconnect(): void {
    if (this.phase === 'ended') {
      return;
    }
    this.phase = 'joining';
    this.early.length = 0;
    clearTimeout(this.receiptTimer);
    this.receiptTimer = undefined;
  }

  /**
   * @internal Ends the room for good: rejects what is pending and removes
   * it from the client. `announce` emits `stopped` with the error.
   */
  end(error: Error, announce: boolean): void {
    if (this.phase === 'ended') {
      return;
    }
    this.phase = 'ended';
    clearTimeout(this.receiptTimer);
    this.receiptTimer = undefined;
    this.host.forget(this);
    for (const pending of this.outgoing.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    if (this.firstJoin) {
      clearTimeout(this.firstJoin.timer);
      this.firstJoin.reject(error);
      this.firstJoin = undefined;
    }
    if (announce) {
      this.emit('stopped', error);
    }
  }

  /** Hands one relayed event to the listeners unless it was handed before. */
  private hand(frame: RelayedEvent): void {
    const { seq } = frame.data;
    if (seq <= this.handedSeq) {
      return;
    }
    this.handedSeq = seq;
    this.knownSeq = Math.max(this.knownSeq, seq);
    this.emit('event', frame);
    if (BUILT_IN_EVENTS.has(frame.event)) {
      this.emit(frame.event as FlowEventName, frame.data);
    }
    if (seq > this.statusSeq) {
      this.statusSeq = seq;
      this.setStatus(statusAfter(this.currentStatus, frame.event));
    }
    this.scheduleReceipt();
  }

  private isRecreated(data: RoomJoinedData): boolean {
    if (this.createdAt !== undefined && data.createdAt !== this.createdAt) {
      return true;
    }
    return data.seq < Math.max(this.knownSeq, this.handedSeq);
  }

  private reset(data: RoomJoinedData): void {
    const previousSeq = Math.max(this.knownSeq, this.handedSeq);
    this.createdAt = data.createdAt;
    this.handedSeq = 0;
    this.knownSeq = 0;
    this.statusSeq = 0;
    this.deliveredSeqs.clear();
    this.emit('reset', { roomId: this.roomId, previousSeq, seq: data.seq });
  }

  private setStatus(status: RoomStatus): void {
    const previous = this.currentStatus;
    if (status === previous) {
      return;
    }
    this.currentStatus = status;
    this.emit('status', { roomId: this.roomId, status, previous });
  }

  private settleFirstJoin(): void {
    if (!this.firstJoin) {
      return;
    }
    clearTimeout(this.firstJoin.timer);
    this.firstJoin.resolve(this);
    this.firstJoin = undefined;
  }

  private transmit(pending: PendingSend): void {
    if (pending.generation === this.joinGeneration) {
      return;
    }
    pending.generation = this.joinGeneration;
    this.host.sendFrame(pending.event, pending.data);
  }

  private removePending(pending: PendingSend): void {
    clearTimeout(pending.timer);
    const index = this.outgoing.indexOf(pending);
    if (index >= 0) {
      this.outgoing.splice(index, 1);
    }
  }

  /** Batches `RECEIVED`: one frame per `receiptDelayMs` at most, with the highest handed `seq`. */
  private scheduleReceipt(): void {
    if (
      this.receiptTimer !== undefined ||
      this.phase !== 'joined' ||
      this.handedSeq <= this.confirmedSeq
    ) {
      return;
    }
    this.receiptTimer = setTimeout(() => {
      this.receiptTimer = undefined;
      if (
        this.phase !== 'joined' ||
        !this.host.isOpen() ||
        this.handedSeq <= this.confirmedSeq
      ) {
        return;
      }
      this.confirmedSeq = this.handedSeq;
      this.host.sendFrame(ClientEvent.RECEIVED, {
        roomId: this.roomId,
        seq: this.handedSeq,
      });
    }, this.host.receiptDelayMs);
  }
}
