import { jest } from '@jest/globals';
import {
  ClientEvent,
  CloseCode,
  ErrorCode,
  LeaveReason,
  Role,
  RoomStatus,
  ServerEvent,
  type Frame,
  type RelayedEventData,
} from '../protocol/index.js';
import { ClientErrorCode, RelayServerError } from './errors.js';
import {
  RelayClient,
  type ConnectionState,
  type RelayClientOptions,
} from './relay-client.js';
import type { RelayRoom } from './relay-room.js';
import type { WebSocketLike } from './websocket.js';

/** A WebSocket the test drives by hand: it opens, receives and drops on request. */
class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: Frame<string, Record<string, unknown>>[] = [];
  terminated = false;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  static latest(): FakeSocket {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Frame<string, Record<string, unknown>>);
  }

  close(code = 1000): void {
    this.drop(code);
  }

  terminate(): void {
    this.terminated = true;
    this.drop(1006);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(event: string, data: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ event, data }) });
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  /** Fails the upgrade the way `ws` does: an error naming the status, then a close. */
  rejectUpgrade(status: number): void {
    this.onerror?.({ message: `Unexpected server response: ${status}` });
    this.drop(1006);
  }

  sentOf(event: string): Record<string, unknown>[] {
    return this.sent
      .filter((frame) => frame.event === event)
      .map((frame) => frame.data);
  }
}

const ROOM = 'room-1';
const CREATED_AT = '2026-01-01T00:00:00.000Z';

function relayed(
  event: string,
  seq: number,
  fields: Partial<RelayedEventData> = {},
): Frame<string, RelayedEventData> {
  return {
    event,
    data: {
      roomId: ROOM,
      seq,
      eventId: `event-${seq}`,
      at: CREATED_AT,
      from: { clientId: 'payer-1', role: Role.PAYER },
      ...fields,
    },
  };
}

/** Replies to the latest send of `event` on `socket` with an `ACK` at `seq`. */
function acknowledge(socket: FakeSocket, event: string, seq: number): void {
  const sent = socket.sentOf(event);
  socket.receive(ServerEvent.ACK, {
    event,
    roomId: ROOM,
    eventId: sent[sent.length - 1].eventId,
    seq,
    deliveredTo: 1,
    duplicate: false,
  });
}

function joined(
  seq: number,
  missed: Frame<string, RelayedEventData>[] = [],
  overrides: Record<string, unknown> = {},
) {
  return {
    roomId: ROOM,
    clientId: 'device-1',
    role: Role.CREATOR,
    seq,
    status: seq > 0 ? RoomStatus.IN_PROGRESS : RoomStatus.OPEN,
    createdAt: CREATED_AT,
    peers: [],
    missed,
    truncated: false,
    ...overrides,
  };
}

function newClient(overrides: Partial<RelayClientOptions> = {}): RelayClient {
  return new RelayClient({
    url: 'ws://relay.test/ws',
    WebSocket: FakeSocket,
    clientId: 'device-1',
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0 },
    pingIntervalMs: 1_000,
    livenessTimeoutMs: 3_000,
    requestTimeoutMs: 60_000,
    receiptDelayMs: 50,
    ...overrides,
  });
}

/** Connects a client and joins `ROOM`, replying to the join with `seq`. */
async function joinedClient(
  role: Role,
  seq = 0,
  missed: Frame<string, RelayedEventData>[] = [],
): Promise<{ client: RelayClient; room: RelayRoom; socket: FakeSocket }> {
  const client = newClient();
  const connected = client.connect();
  const socket = FakeSocket.latest();
  socket.open();
  await connected;
  const joining = client.joinRoom(ROOM, role);
  socket.receive(ServerEvent.ROOM_JOINED, joined(seq, missed, { role }));
  const room = await joining;
  return { client, room, socket };
}

/** Lets the reconnect timer run and opens the new socket. */
function reconnect(delayMs = 100): FakeSocket {
  jest.advanceTimersByTime(delayMs);
  const socket = FakeSocket.latest();
  socket.open();
  return socket;
}

describe(RelayClient.name, () => {
  let client: RelayClient | undefined;

  beforeEach(() => {
    FakeSocket.instances = [];
    jest.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    client?.close();
    client = undefined;
    jest.useRealTimers();
  });

  it('hands missed and live events once, in seq order', async () => {
    const setup = await joinedClient(Role.CREATOR, 2, [
      relayed(ClientEvent.ENTERED_SUMMARY, 1),
      relayed(ClientEvent.CLICKED_PROCEED, 2),
    ]);
    client = setup.client;
    const seqs: number[] = [];
    setup.room.on('event', (frame) => seqs.push(frame.data.seq));
    setup.socket.receive(
      ClientEvent.CLICKED_PAY,
      relayed('CLICKED_PAY', 3).data,
    );
    setup.socket.drop();

    const second = reconnect();
    expect(second.sentOf(ClientEvent.JOIN_ROOM)[0]).toMatchObject({
      roomId: ROOM,
      clientId: 'device-1',
      lastSeq: 3,
    });
    second.receive(
      ServerEvent.ROOM_JOINED,
      joined(4, [
        relayed(ClientEvent.CLICKED_PROCEED, 2),
        relayed(ClientEvent.CLICKED_PAY, 3),
        relayed(ClientEvent.PAYMENT_SUCCESS, 4),
      ]),
    );

    expect(seqs).toEqual([3, 4]);
    expect(setup.room.lastSeq).toBe(4);
    expect(setup.room.status).toBe(RoomStatus.IN_PROGRESS);
  });

  it('holds live events that arrive before ROOM_JOINED', async () => {
    const setup = await joinedClient(Role.CREATOR, 1, [
      relayed(ClientEvent.ENTERED_SUMMARY, 1),
    ]);
    client = setup.client;
    const seqs: number[] = [];
    setup.room.on('event', (frame) => seqs.push(frame.data.seq));
    setup.socket.drop();

    const second = reconnect();
    second.receive(ClientEvent.CLICKED_PAY, relayed('CLICKED_PAY', 3).data);
    second.receive(
      ServerEvent.ROOM_JOINED,
      joined(2, [relayed(ClientEvent.CLICKED_PROCEED, 2)]),
    );

    expect(seqs).toEqual([2, 3]);
  });

  it('re-sends unacknowledged and queued events with their eventIds', async () => {
    const setup = await joinedClient(Role.PAYER);
    client = setup.client;
    const first = setup.room.clickedProceed();
    const sentId = setup.socket.sentOf(ClientEvent.CLICKED_PROCEED)[0].eventId;
    setup.socket.drop();
    const second = setup.room.paymentMethodChanged('PIX');

    const socket = reconnect();
    expect(socket.sentOf(ClientEvent.CLICKED_PROCEED)).toEqual([]);
    socket.receive(
      ServerEvent.ROOM_JOINED,
      joined(1, [], { role: Role.PAYER }),
    );

    const resent = socket.sent.filter(
      (frame) => frame.event !== ClientEvent.JOIN_ROOM,
    );
    expect(resent.map((frame) => frame.event)).toEqual([
      ClientEvent.CLICKED_PROCEED,
      ClientEvent.PAYMENT_METHOD_CHANGED,
    ]);
    expect(resent[0].data.eventId).toBe(sentId);
    for (const [index, frame] of resent.entries()) {
      socket.receive(ServerEvent.ACK, {
        event: frame.event,
        roomId: ROOM,
        eventId: frame.data.eventId,
        seq: index + 1,
        deliveredTo: 1,
        duplicate: index === 0,
      });
    }
    await expect(first).resolves.toMatchObject({ seq: 1, duplicate: true });
    await expect(second).resolves.toMatchObject({ seq: 2, duplicate: false });
    expect(setup.room.status).toBe(RoomStatus.IN_PROGRESS);
  });

  it('rejects a send with the server ERROR', async () => {
    const setup = await joinedClient(Role.PAYER);
    client = setup.client;
    const sending = setup.room.paymentSucceeded();
    const { eventId } = setup.socket.sentOf(ClientEvent.PAYMENT_SUCCESS)[0];
    setup.socket.receive(ServerEvent.ERROR, {
      code: ErrorCode.INVALID_TRANSITION,
      message: 'no CLICKED_PAY',
      event: ClientEvent.PAYMENT_SUCCESS,
      eventId,
    });
    await expect(sending).rejects.toBeInstanceOf(RelayServerError);
    await expect(sending).rejects.toMatchObject({
      code: ErrorCode.INVALID_TRANSITION,
    });
  });

  it('rejects a send after requestTimeoutMs', async () => {
    const setup = await joinedClient(Role.PAYER);
    client = setup.client;
    const sending = setup.room.clickedPay();
    jest.advanceTimersByTime(60_000);
    await expect(sending).rejects.toMatchObject({
      code: ClientErrorCode.TIMEOUT,
    });
  });

  it('backs off between failed attempts', async () => {
    client = newClient();
    const delays: number[] = [];
    client.on('reconnectScheduled', ({ delayMs }) => delays.push(delayMs));
    const connected = client.connect();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      FakeSocket.latest().drop();
      jest.advanceTimersByTime(delays[delays.length - 1]);
    }
    FakeSocket.latest().open();
    await connected;
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('reconnects at once after 1012', async () => {
    const setup = await joinedClient(Role.CREATOR);
    client = setup.client;
    const delays: number[] = [];
    client.on('reconnectScheduled', ({ delayMs }) => delays.push(delayMs));
    setup.socket.drop(CloseCode.SERVICE_RESTART);
    jest.advanceTimersByTime(0);
    expect(delays).toEqual([0]);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('drops a silent socket after the liveness timeout', async () => {
    const setup = await joinedClient(Role.CREATOR);
    client = setup.client;
    const states: ConnectionState[] = [];
    client.on('state', ({ state }) => states.push(state));

    jest.advanceTimersByTime(2_000);
    expect(setup.socket.sentOf(ClientEvent.PING)).toHaveLength(2);
    setup.socket.receive(ServerEvent.PONG, { at: CREATED_AT });
    jest.advanceTimersByTime(2_000);
    expect(states).toEqual([]);

    jest.advanceTimersByTime(2_000);
    expect(setup.socket.terminated).toBe(true);
    expect(states).toEqual(['reconnecting']);
  });

  it('stops a room replaced by another connection', async () => {
    const setup = await joinedClient(Role.PAYER);
    client = setup.client;
    const stopped: Error[] = [];
    setup.room.on('stopped', (error) => stopped.push(error));
    const sending = setup.room.clickedPay();
    setup.socket.receive(ServerEvent.ROOM_LEFT, {
      roomId: ROOM,
      reason: LeaveReason.REPLACED,
    });

    await expect(sending).rejects.toMatchObject({
      code: ClientErrorCode.REPLACED,
    });
    expect(stopped).toHaveLength(1);
    setup.socket.drop();
    const socket = reconnect();
    expect(socket.sentOf(ClientEvent.JOIN_ROOM)).toEqual([]);
  });

  it('stops a room whose re-join is rejected', async () => {
    const setup = await joinedClient(Role.CREATOR);
    client = setup.client;
    const stopped: Error[] = [];
    setup.room.on('stopped', (error) => stopped.push(error));
    setup.socket.drop();

    const socket = reconnect();
    socket.receive(ServerEvent.ERROR, {
      code: ErrorCode.ROOM_CLOSED,
      message: 'Room "room-1" is closed (EXPIRED)',
      event: ClientEvent.JOIN_ROOM,
    });

    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ code: ErrorCode.ROOM_CLOSED });
    expect(client.room(ROOM)).toBeUndefined();
    socket.drop();
    expect(reconnect().sentOf(ClientEvent.JOIN_ROOM)).toEqual([]);
  });

  it('rejects joinRoom with the server ERROR', async () => {
    client = newClient();
    const connected = client.connect();
    FakeSocket.latest().open();
    await connected;
    const joining = client.joinRoom(ROOM, Role.PAYER);
    FakeSocket.latest().receive(ServerEvent.ERROR, {
      code: ErrorCode.ROOM_FULL,
      message: 'Room is full',
      event: ClientEvent.JOIN_ROOM,
    });
    await expect(joining).rejects.toMatchObject({ code: ErrorCode.ROOM_FULL });
  });

  it('reports a recreated room and hands its events from seq 1', async () => {
    const setup = await joinedClient(Role.CREATOR, 2, [
      relayed(ClientEvent.ENTERED_SUMMARY, 1),
      relayed(ClientEvent.CLICKED_PROCEED, 2),
    ]);
    client = setup.client;
    const resets: unknown[] = [];
    const seqs: number[] = [];
    setup.room.on('reset', (reset) => resets.push(reset));
    setup.room.on('event', (frame) => seqs.push(frame.data.seq));
    setup.socket.drop(CloseCode.SERVICE_RESTART);

    const socket = reconnect(0);
    socket.receive(
      ServerEvent.ROOM_JOINED,
      joined(1, [], { createdAt: '2026-01-02T00:00:00.000Z' }),
    );
    const resync = socket.sentOf(ClientEvent.JOIN_ROOM);
    expect(resync.map((data) => data.lastSeq)).toEqual([2, 0]);
    socket.receive(
      ServerEvent.ROOM_JOINED,
      joined(1, [relayed(ClientEvent.ENTERED_SUMMARY, 1)], {
        createdAt: '2026-01-02T00:00:00.000Z',
      }),
    );

    expect(resets).toEqual([{ roomId: ROOM, previousSeq: 2, seq: 1 }]);
    expect(seqs).toEqual([1]);
  });

  it('batches RECEIVED with the highest handed seq', async () => {
    const setup = await joinedClient(Role.CREATOR);
    client = setup.client;
    for (const seq of [1, 2, 3]) {
      setup.socket.receive(
        ClientEvent.DATA_FILLED,
        relayed('DATA_FILLED', seq).data,
      );
    }
    expect(setup.socket.sentOf(ClientEvent.RECEIVED)).toEqual([]);
    jest.advanceTimersByTime(50);
    expect(setup.socket.sentOf(ClientEvent.RECEIVED)).toEqual([
      { roomId: ROOM, seq: 3 },
    ]);
  });

  it('reports each DELIVERED seq once', async () => {
    const setup = await joinedClient(Role.PAYER);
    client = setup.client;
    const seqs: number[] = [];
    setup.room.on('delivered', ({ seq }) => seqs.push(seq));
    for (const seq of [1, 3, 3, 2, 4]) {
      setup.socket.receive(ServerEvent.DELIVERED, {
        roomId: ROOM,
        seq,
        clientId: 'creator-1',
      });
    }
    expect(seqs).toEqual([1, 3, 4]);
  });

  it('stops after maxReconnectAttempts failures', async () => {
    client = new RelayClient({
      url: 'ws://relay.test/ws',
      WebSocket: FakeSocket,
      maxReconnectAttempts: 2,
      reconnect: { initialDelayMs: 10, jitter: 0 },
    });
    const errors: Error[] = [];
    const states: ConnectionState[] = [];
    client.on('error', (error) => errors.push(error));
    client.on('state', ({ state }) => states.push(state));
    const connected = client.connect();
    FakeSocket.latest().drop();
    jest.advanceTimersByTime(20);
    FakeSocket.latest().drop();

    await expect(connected).rejects.toMatchObject({
      code: ClientErrorCode.RECONNECT_FAILED,
    });
    expect(states).toEqual(['connecting', 'reconnecting', 'closed']);
    expect(client.state).toBe('closed');
    expect(errors).toHaveLength(1);
  });

  describe('result status', () => {
    it('keeps the status on an unverified success', async () => {
      const setup = await joinedClient(Role.CREATOR, 1, [
        relayed(ClientEvent.CLICKED_PAY, 1),
      ]);
      client = setup.client;
      const statuses: RoomStatus[] = [];
      const claims: (string | undefined)[] = [];
      setup.room.on('status', ({ status }) => statuses.push(status));
      setup.room.on('claimedResult', (claim) => claims.push(claim?.event));

      setup.socket.receive(
        ClientEvent.PAYMENT_SUCCESS,
        relayed(ClientEvent.PAYMENT_SUCCESS, 2, { verified: false }).data,
      );
      expect(setup.room.status).toBe(RoomStatus.IN_PROGRESS);
      expect(setup.room.claimedResult).toMatchObject({
        event: ClientEvent.PAYMENT_SUCCESS,
        seq: 2,
        from: { clientId: 'payer-1', role: Role.PAYER },
      });

      const verified = relayed(ClientEvent.PAYMENT_SUCCESS, 3, {
        verified: true,
      });
      delete verified.data.from;
      setup.socket.receive(ClientEvent.PAYMENT_SUCCESS, verified.data);
      expect(setup.room.status).toBe(RoomStatus.PAID);
      expect(setup.room.claimedResult).toBeUndefined();
      expect(statuses).toEqual([RoomStatus.PAID]);
      expect(claims).toEqual([ClientEvent.PAYMENT_SUCCESS, undefined]);
    });

    it('takes PAID from the join snapshot', async () => {
      const setup = await joinedClient(Role.CREATOR, 2, [
        relayed(ClientEvent.CLICKED_PAY, 1),
        relayed(ClientEvent.PAYMENT_SUCCESS, 2, { verified: false }),
      ]);
      client = setup.client;
      setup.socket.drop();
      const socket = reconnect();
      socket.receive(
        ServerEvent.ROOM_JOINED,
        joined(2, [], { status: RoomStatus.PAID }),
      );
      expect(setup.room.status).toBe(RoomStatus.PAID);
    });

    it('applies an unverified payment error', async () => {
      const setup = await joinedClient(Role.CREATOR, 1, [
        relayed(ClientEvent.CLICKED_PAY, 1),
      ]);
      client = setup.client;
      setup.socket.receive(
        ClientEvent.PAYMENT_ERROR,
        relayed(ClientEvent.PAYMENT_ERROR, 2, {
          verified: false,
          code: 'CARD_DECLINED',
        }).data,
      );
      expect(setup.room.status).toBe(RoomStatus.FAILED);
      expect(setup.room.claimedResult?.event).toBe(ClientEvent.PAYMENT_ERROR);

      setup.socket.receive(
        ClientEvent.CLICKED_PAY,
        relayed(ClientEvent.CLICKED_PAY, 3).data,
      );
      expect(setup.room.status).toBe(RoomStatus.IN_PROGRESS);
      expect(setup.room.claimedResult).toBeUndefined();
    });

    it('keeps the status after the own success ACK', async () => {
      const setup = await joinedClient(Role.PAYER);
      client = setup.client;
      const paying = setup.room.clickedPay();
      acknowledge(setup.socket, ClientEvent.CLICKED_PAY, 1);
      await paying;
      const succeeding = setup.room.paymentSucceeded();
      acknowledge(setup.socket, ClientEvent.PAYMENT_SUCCESS, 2);
      await succeeding;

      expect(setup.room.status).toBe(RoomStatus.IN_PROGRESS);
      expect(setup.room.claimedResult).toMatchObject({
        event: ClientEvent.PAYMENT_SUCCESS,
        seq: 2,
        from: { clientId: 'device-1', role: Role.PAYER },
      });
    });
  });

  describe('rejected re-join', () => {
    it.each([
      ErrorCode.UNAVAILABLE,
      ErrorCode.RATE_LIMITED,
      ErrorCode.INTERNAL_ERROR,
    ])('retries after %s with back-off', async (code) => {
      const setup = await joinedClient(Role.CREATOR);
      client = setup.client;
      const stopped: Error[] = [];
      setup.room.on('stopped', (error) => stopped.push(error));
      setup.socket.drop();

      const socket = reconnect();
      socket.receive(ServerEvent.ERROR, {
        code,
        message: 'try again',
        event: ClientEvent.JOIN_ROOM,
      });
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)).toHaveLength(1);
      jest.advanceTimersByTime(100);
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)).toHaveLength(2);
      socket.receive(ServerEvent.ROOM_JOINED, joined(0));

      expect(stopped).toEqual([]);
      expect(setup.room.joined).toBe(true);
      expect(client.room(ROOM)).toBe(setup.room);
    });

    it.each([
      ErrorCode.FORBIDDEN,
      ErrorCode.UNAUTHORIZED,
      ErrorCode.ROOM_FULL,
      ErrorCode.ROOM_CLOSED,
      ErrorCode.VALIDATION_FAILED,
    ])('stops the room after %s', async (code) => {
      const setup = await joinedClient(Role.CREATOR);
      client = setup.client;
      const stopped: Error[] = [];
      setup.room.on('stopped', (error) => stopped.push(error));
      setup.socket.drop();

      const socket = reconnect();
      socket.receive(ServerEvent.ERROR, {
        code,
        message: 'final',
        event: ClientEvent.JOIN_ROOM,
      });
      jest.advanceTimersByTime(1_000);

      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatchObject({ code });
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)).toHaveLength(1);
    });
  });

  describe('joins in flight', () => {
    async function openClient(
      overrides: Partial<RelayClientOptions> = {},
    ): Promise<FakeSocket> {
      client = newClient(overrides);
      const connected = client.connect();
      const socket = FakeSocket.latest();
      socket.open();
      await connected;
      return socket;
    }

    it('sends one JOIN_ROOM at a time', async () => {
      const socket = await openClient();
      const first = client!.joinRoom('room-a', Role.PAYER);
      const second = client!.joinRoom('room-b', Role.CREATOR);
      expect(socket.sentOf(ClientEvent.JOIN_ROOM).map((d) => d.roomId)).toEqual(
        ['room-a'],
      );

      socket.receive(
        ServerEvent.ROOM_JOINED,
        joined(0, [], { roomId: 'room-a', role: Role.PAYER }),
      );
      expect(socket.sentOf(ClientEvent.JOIN_ROOM).map((d) => d.roomId)).toEqual(
        ['room-a', 'room-b'],
      );
      socket.receive(
        ServerEvent.ROOM_JOINED,
        joined(0, [], { roomId: 'room-b' }),
      );
      await expect(first).resolves.toMatchObject({ roomId: 'room-a' });
      await expect(second).resolves.toMatchObject({ roomId: 'room-b' });
    });

    it('gives a join error to the left room', async () => {
      const socket = await openClient();
      const first = client!.joinRoom('room-a', Role.PAYER);
      const second = client!.joinRoom('room-b', Role.CREATOR);
      const leaving = client!.leaveRoom('room-a');
      await expect(first).rejects.toMatchObject({
        code: ClientErrorCode.ROOM_LEFT,
      });

      socket.receive(ServerEvent.ERROR, {
        code: ErrorCode.ROOM_FULL,
        message: 'Room "room-a" is full',
        event: ClientEvent.JOIN_ROOM,
      });
      await leaving;
      expect(socket.sentOf(ClientEvent.JOIN_ROOM).map((d) => d.roomId)).toEqual(
        ['room-a', 'room-b'],
      );
      socket.receive(
        ServerEvent.ROOM_JOINED,
        joined(0, [], { roomId: 'room-b' }),
      );
      await expect(second).resolves.toMatchObject({ roomId: 'room-b' });
      expect(socket.sentOf(ClientEvent.LEAVE_ROOM)).toEqual([]);
    });

    it('leaves a room joined after leave()', async () => {
      const socket = await openClient();
      const joining = client!.joinRoom(ROOM, Role.CREATOR);
      let left = false;
      const leaving = client!.leaveRoom(ROOM).then(() => {
        left = true;
      });
      await expect(joining).rejects.toMatchObject({
        code: ClientErrorCode.ROOM_LEFT,
      });

      socket.receive(ServerEvent.ROOM_JOINED, joined(0));
      expect(socket.sentOf(ClientEvent.LEAVE_ROOM)).toEqual([{ roomId: ROOM }]);
      await Promise.resolve();
      expect(left).toBe(false);
      socket.receive(ServerEvent.ROOM_LEFT, {
        roomId: ROOM,
        reason: LeaveReason.LEFT,
      });
      await leaving;
      expect(left).toBe(true);
      expect(client!.room(ROOM)).toBeUndefined();
    });

    it('leaves a room whose join timed out', async () => {
      const socket = await openClient({ requestTimeoutMs: 500 });
      const joining = client!.joinRoom(ROOM, Role.CREATOR);
      jest.advanceTimersByTime(500);
      await expect(joining).rejects.toMatchObject({
        code: ClientErrorCode.TIMEOUT,
      });

      socket.receive(ServerEvent.ROOM_JOINED, joined(0));
      expect(socket.sentOf(ClientEvent.LEAVE_ROOM)).toEqual([{ roomId: ROOM }]);
    });
  });

  describe('payer re-join', () => {
    it('sends the seq of its own acknowledged events', async () => {
      const setup = await joinedClient(Role.PAYER);
      client = setup.client;
      const handed: number[] = [];
      setup.room.on('event', (frame) => handed.push(frame.data.seq));
      const steps = [
        ClientEvent.ENTERED_SUMMARY,
        ClientEvent.CLICKED_PROCEED,
        ClientEvent.CLICKED_PAY,
      ];
      for (const [index, event] of steps.entries()) {
        const sending = setup.room.send(event);
        acknowledge(setup.socket, event, index + 1);
        await sending;
      }
      setup.socket.drop();

      const socket = reconnect();
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)[0]).toMatchObject({
        lastSeq: 3,
      });
      expect(handed).toEqual([]);
    });

    it('skips its own events repeated in missed', async () => {
      const setup = await joinedClient(Role.PAYER);
      client = setup.client;
      const handed: number[] = [];
      setup.room.on('event', (frame) => handed.push(frame.data.seq));
      // The ACK of seq 2 overtakes the creator's event at seq 1.
      const sending = setup.room.clickedProceed();
      acknowledge(setup.socket, ClientEvent.CLICKED_PROCEED, 2);
      await sending;
      setup.socket.drop();

      const socket = reconnect();
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)[0]).toMatchObject({
        lastSeq: 0,
      });
      socket.receive(
        ServerEvent.ROOM_JOINED,
        joined(
          2,
          [
            relayed('CREATOR_NOTE', 1, {
              from: { clientId: 'creator-1', role: Role.CREATOR },
            }),
            relayed(ClientEvent.CLICKED_PROCEED, 2, {
              from: { clientId: 'device-1', role: Role.PAYER },
            }),
          ],
          { role: Role.PAYER },
        ),
      );
      expect(handed).toEqual([1]);
      expect(setup.room.lastSeq).toBe(2);
    });
  });

  describe('RATE_LIMITED without an event', () => {
    const rateLimited = {
      code: ErrorCode.RATE_LIMITED,
      message: 'Too many messages',
    };

    it('re-sends the oldest send after back-off', async () => {
      const setup = await joinedClient(Role.PAYER);
      client = setup.client;
      const first = setup.room.clickedProceed();
      const second = setup.room.paymentMethodChanged('PIX');
      const [firstSent] = setup.socket.sentOf(ClientEvent.CLICKED_PROCEED);

      setup.socket.receive(ServerEvent.ERROR, rateLimited);
      expect(setup.socket.sentOf(ClientEvent.CLICKED_PROCEED)).toHaveLength(1);
      jest.advanceTimersByTime(100);
      const resent = setup.socket.sentOf(ClientEvent.CLICKED_PROCEED);
      expect(resent).toHaveLength(2);
      expect(resent[1].eventId).toBe(firstSent.eventId);
      expect(
        setup.socket.sentOf(ClientEvent.PAYMENT_METHOD_CHANGED),
      ).toHaveLength(1);

      acknowledge(setup.socket, ClientEvent.PAYMENT_METHOD_CHANGED, 1);
      acknowledge(setup.socket, ClientEvent.CLICKED_PROCEED, 2);
      await expect(first).resolves.toMatchObject({ seq: 2 });
      await expect(second).resolves.toMatchObject({ seq: 1 });
    });

    it('re-sends a rate-limited JOIN_ROOM', async () => {
      client = newClient();
      const connected = client.connect();
      const socket = FakeSocket.latest();
      socket.open();
      await connected;
      const joining = client.joinRoom(ROOM, Role.CREATOR);

      socket.receive(ServerEvent.ERROR, rateLimited);
      jest.advanceTimersByTime(100);
      expect(socket.sentOf(ClientEvent.JOIN_ROOM)).toHaveLength(2);
      socket.receive(ServerEvent.ROOM_JOINED, joined(0));
      await expect(joining).resolves.toMatchObject({ roomId: ROOM });
    });

    it('still times out a send', async () => {
      const setup = await joinedClient(Role.PAYER);
      client = setup.client;
      const sending = setup.room.clickedPay();
      setup.socket.receive(ServerEvent.ERROR, rateLimited);
      jest.advanceTimersByTime(60_000);
      await expect(sending).rejects.toMatchObject({
        code: ClientErrorCode.TIMEOUT,
      });
    });
  });

  describe('final closes', () => {
    it('stops after a 1008 close', async () => {
      const setup = await joinedClient(Role.CREATOR);
      client = setup.client;
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      setup.socket.drop(CloseCode.POLICY_VIOLATION);
      jest.advanceTimersByTime(10_000);

      expect(client.state).toBe('closed');
      expect(FakeSocket.instances).toHaveLength(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        code: ClientErrorCode.POLICY_VIOLATION,
      });
    });

    it.each([401, 403])(
      'stops after an upgrade rejected with %i',
      async (status) => {
        client = newClient();
        const connected = client.connect();
        FakeSocket.latest().rejectUpgrade(status);
        await expect(connected).rejects.toMatchObject({
          code: ClientErrorCode.UPGRADE_REJECTED,
        });
        jest.advanceTimersByTime(10_000);
        expect(client.state).toBe('closed');
        expect(FakeSocket.instances).toHaveLength(1);
      },
    );

    it.each([429, 503])(
      'reconnects after an upgrade rejected with %i',
      async (status) => {
        client = newClient();
        const delays: number[] = [];
        client.on('reconnectScheduled', ({ delayMs }) => delays.push(delayMs));
        const connected = client.connect();
        FakeSocket.latest().rejectUpgrade(status);
        jest.advanceTimersByTime(100);
        FakeSocket.latest().open();
        await connected;
        expect(delays).toEqual([100]);
        expect(client.state).toBe('open');
      },
    );
  });
});
