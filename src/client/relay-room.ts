import {
  ClientEvent,
  ErrorCode,
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
import { isResultEvent, statusAfter } from './room-status.js';

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
 * A payment result that a device reported (`verified: false`) and that
 * neither a verified result nor a new `CLICKED_PAY` settled since.
 */
export interface ClaimedResult {
  roomId: string;
  /** `PAYMENT_SUCCESS` or `PAYMENT_ERROR`. */
  event: string;
  seq: number;
  eventId: string;
  /** The device that sent it; this client itself for its own sends. */
  from?: Peer;
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
  /**
   * The latest unverified result changed: a device reported one, or a
   * verified result or a new `CLICKED_PAY` settled it (`undefined`).
   */
  claimedResult: [ClaimedResult | undefined];
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
  /** Queues `JOIN_ROOM` for the room; the client sends one join at a time. */
  requestJoin(room: RelayRoom): void;
  /** Removes an ended room from the client. */
  forget(room: RelayRoom): void;
  /**
   * Takes the room out of the server after `leave()`: sends `LEAVE_ROOM`
   * when the room was joined, or once the reply to its join in flight
   * arrives, and resolves when the server confirmed or the socket closed.
   */
  requestLeave(room: RelayRoom, joined: boolean): Promise<void>;
  /** Returns the next number in the order of frames sent on the client's sockets. */
  nextTransmission(): number;
  /** Delay before retry number `attempt` (from 0), with the reconnect back-off. */
  backoffDelay(attempt: number): number;
  generateId(): string;
}

/** A request on the current socket whose reply has not arrived yet. */
export interface UnansweredRequest {
  /** Position of its latest transmission, from `RoomHost.nextTransmission`. */
  transmission: number;
  /**
   * Marks the request as the one a `RATE_LIMITED` error dropped, and
   * returns the function that sends it again if it is still unanswered.
   */
  markDropped(): () => void;
}

/**
 * Join errors that a later attempt may not get: the shared store is
 * unreachable, the connection sent too fast, or the server failed. A
 * re-join rejected with one of them is tried again with back-off.
 */
const RETRYABLE_JOIN_ERRORS: ReadonlySet<string> = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INTERNAL_ERROR,
]);

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
  /**
   * Position of the latest transmission awaiting a reply; `Infinity` when
   * not sent on the current socket or already taken by a `RATE_LIMITED`.
   */
  transmission: number;
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
  /**
   * Highest `seq` up to which every event was handed to the listeners or
   * acknowledged as this client's own. Re-joins send it as `lastSeq`.
   */
  private handedSeq: number;
  /** `seq`s of this client's own acknowledged events above `handedSeq`. */
  private readonly ownSeqs = new Set<number>();
  private claim?: ClaimedResult;
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
  /** Re-join attempts rejected with a retryable error in a row. */
  private rejoinAttempts = 0;
  private rejoinTimer?: ReturnType<typeof setTimeout>;
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

  /**
   * Highest `seq` up to which this client has every event: handed to the
   * listeners, or acknowledged as one of its own sends. The next re-join
   * sends it as `lastSeq`, so a payer does not receive its own events back.
   */
  get lastSeq(): number {
    return this.handedSeq;
  }

  /**
   * The room's status as the server reported it at the latest join,
   * advanced by the accepted events since. An unverified `PAYMENT_SUCCESS`
   * does not make it `PAID`: see `claimedResult`.
   */
  get status(): RoomStatus {
    return this.currentStatus;
  }

  /** The latest unverified result that nothing settled yet. */
  get claimedResult(): ClaimedResult | undefined {
    return this.claim;
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
        transmission: Infinity,
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

  /**
   * Leaves the room. Pending sends are rejected with `ROOM_LEFT`. A room
   * whose join is in flight sends `LEAVE_ROOM` once the join's reply arrives.
   */
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
    await this.host.requestLeave(this, wasJoined);
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
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = undefined;
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
    this.rejoinAttempts = 0;
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
    if (ack.seq > this.handedSeq) {
      this.ownSeqs.add(ack.seq);
      this.advanceOverOwnSeqs();
    }
    if (ack.seq > this.statusSeq) {
      this.statusSeq = ack.seq;
      // A device's event is never verified; only the payment backend's are.
      this.setStatus(statusAfter(this.currentStatus, ack.event, false));
      this.trackClaim(ack.event, ack.seq, ack.eventId, false, {
        clientId: this.clientId,
        role: this.role,
      });
    }
    pending.resolve(ack);
    return true;
  }

  /** @internal The oldest send on the current socket that awaits its reply. */
  oldestUnansweredSend(): UnansweredRequest | undefined {
    let oldest: PendingSend | undefined;
    for (const pending of this.outgoing) {
      if (pending.transmission < (oldest?.transmission ?? Infinity)) {
        oldest = pending;
      }
    }
    if (!oldest) {
      return undefined;
    }
    const pending = oldest;
    return {
      transmission: pending.transmission,
      markDropped: () => {
        pending.transmission = Infinity;
        const generation = pending.generation;
        return () => {
          const unanswered = this.outgoing.includes(pending);
          if (
            unanswered &&
            this.phase === 'joined' &&
            generation === this.joinGeneration &&
            this.host.isOpen()
          ) {
            pending.transmission = this.host.nextTransmission();
            this.host.sendFrame(pending.event, pending.data);
          }
        };
      },
    };
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

  /**
   * @internal A re-join rejected with a retryable error is tried again with
   * back-off, and so is a rate-limited first join. Any other rejection ends
   * the room.
   */
  handleJoinRejected(error: ErrorData): void {
    // A rate limit is not about the join itself, so a first join retries it
    // too. The other codes end a first join, and the app decides.
    const retryable =
      RETRYABLE_JOIN_ERRORS.has(error.code) &&
      (this.joinedBefore || error.code === ErrorCode.RATE_LIMITED);
    if (retryable) {
      const delayMs = this.host.backoffDelay(this.rejoinAttempts);
      this.rejoinAttempts += 1;
      clearTimeout(this.rejoinTimer);
      this.rejoinTimer = setTimeout(() => {
        this.rejoinTimer = undefined;
        if (this.phase === 'joining' && this.host.isOpen()) {
          this.host.requestJoin(this);
        }
      }, delayMs);
      return;
    }
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
    // The next open socket re-joins at once.
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = undefined;
    for (const pending of this.outgoing) {
      pending.transmission = Infinity;
    }
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
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = undefined;
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

  /**
   * Hands one relayed event to the listeners unless it was handed before or
   * is this client's own acknowledged send, which a join's `missed` repeats.
   */
  private hand(frame: RelayedEvent): void {
    const { seq } = frame.data;
    if (seq <= this.handedSeq) {
      return;
    }
    const own = this.ownSeqs.has(seq);
    this.handedSeq = seq;
    this.advanceOverOwnSeqs();
    this.knownSeq = Math.max(this.knownSeq, seq);
    if (own) {
      return;
    }
    this.emit('event', frame);
    if (BUILT_IN_EVENTS.has(frame.event)) {
      this.emit(frame.event as FlowEventName, frame.data);
    }
    if (seq > this.statusSeq) {
      this.statusSeq = seq;
      this.setStatus(
        statusAfter(this.currentStatus, frame.event, frame.data.verified),
      );
      this.trackClaim(
        frame.event,
        seq,
        frame.data.eventId,
        frame.data.verified,
        frame.data.from,
      );
    }
    this.scheduleReceipt();
  }

  /** Moves `handedSeq` over the own events that directly follow it. */
  private advanceOverOwnSeqs(): void {
    for (const seq of this.ownSeqs) {
      if (seq <= this.handedSeq) {
        this.ownSeqs.delete(seq);
      }
    }
    while (this.ownSeqs.delete(this.handedSeq + 1)) {
      this.handedSeq += 1;
    }
  }

  /**
   * Records an unverified result as the room's claim. A verified result or
   * a new `CLICKED_PAY` clears it.
   */
  private trackClaim(
    event: string,
    seq: number,
    eventId: string,
    verified: boolean | undefined,
    from: Peer | undefined,
  ): void {
    let claim = this.claim;
    if (isResultEvent(event)) {
      claim =
        verified === true
          ? undefined
          : {
              roomId: this.roomId,
              event,
              seq,
              eventId,
              ...(from && {
                from: { clientId: from.clientId, role: from.role },
              }),
            };
    } else if (event === ClientEvent.CLICKED_PAY) {
      claim = undefined;
    }
    if (claim === this.claim) {
      return;
    }
    this.claim = claim;
    this.emit('claimedResult', claim);
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
    this.ownSeqs.clear();
    this.deliveredSeqs.clear();
    if (this.claim) {
      this.claim = undefined;
      this.emit('claimedResult', undefined);
    }
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
    pending.transmission = this.host.nextTransmission();
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
