import { describeEachStore } from '../support/stores.js';
import {
  CHECKOUT_STEPS,
  openRoom,
  type RoomFixture,
} from '../support/room-fixture.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

await describeEachStore('flow events', (store) => {
  let server: TestServer;
  let room: RoomFixture;

  beforeAll(async () => {
    server = await startTestServer(store.environment());
  });
  afterAll(() => server.close());

  beforeEach(async () => {
    room = await openRoom(server.wsUrl);
  });
  afterEach(() => room.close());

  /** Sends a flow event from the payer and returns its ACK data. */
  const pay = (event: string, data: Record<string, unknown> = {}) =>
    room.payer.request(event, { roomId: room.roomId, ...data });

  it('relays the whole checkout in order', async () => {
    for (const [index, step] of CHECKOUT_STEPS.entries()) {
      const ack = await pay(step.event, step.data);
      expect(ack).toMatchObject({
        event: step.event,
        roomId: room.roomId,
        seq: index + 1,
        deliveredTo: 1,
        duplicate: false,
      });

      const relayed = await room.creator.next(step.event);
      expect(relayed.data).toMatchObject({
        roomId: room.roomId,
        seq: index + 1,
        eventId: ack.eventId,
        from: { clientId: `${room.roomId}-payer`, role: 'PAYER' },
        ...step.data,
      });
      expect(typeof (relayed.data as { at: unknown }).at).toBe('string');
    }
  });

  it('never sends an event back to its sender', async () => {
    await pay('ENTERED_SUMMARY');
    await room.payer.sync();
    expect(room.payer.queued('ENTERED_SUMMARY')).toHaveLength(0);
  });

  it('keeps the given eventId and makes one up otherwise', async () => {
    const given = await pay('ENTERED_SUMMARY', { eventId: 'evt_given-1' });
    const made = await pay('CLICKED_PROCEED');
    expect(given.eventId).toBe('evt_given-1');
    expect(made.eventId).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
  });

  it('counts every creator in deliveredTo', async () => {
    const second = await TestClient.connect(server.wsUrl);
    await second.join(room.roomId, 'CREATOR', { clientId: 'second-creator' });
    const ack = await pay('ENTERED_SUMMARY');
    expect(ack.deliveredTo).toBe(2);
    expect((await second.next('ENTERED_SUMMARY')).data).toMatchObject({
      seq: 1,
    });
    await second.close();
  });

  it('reports deliveredTo 0 with no creator present', async () => {
    await room.creator.close();
    await room.payer.next('PEER_LEFT');
    const ack = await pay('ENTERED_SUMMARY');
    expect(ack).toMatchObject({ seq: 1, deliveredTo: 0 });
  });

  it('acknowledges a repeated eventId as a duplicate', async () => {
    const first = await pay('CLICKED_PAY', { eventId: 'pay-1' });
    const again = await pay('CLICKED_PAY', { eventId: 'pay-1' });
    expect(again).toMatchObject({
      seq: first.seq,
      duplicate: true,
      eventId: 'pay-1',
      deliveredTo: 0,
    });

    await room.creator.next('CLICKED_PAY');
    await room.creator.sync();
    expect(room.creator.queued('CLICKED_PAY')).toHaveLength(0);
  });

  it('detects duplicates before the transition check', async () => {
    await pay('CLICKED_PAY');
    const success = await pay('PAYMENT_SUCCESS', { eventId: 'result-1' });
    const retry = await pay('PAYMENT_SUCCESS', { eventId: 'result-1' });
    expect(retry).toMatchObject({ seq: success.seq, duplicate: true });
  });

  it('keeps seq without gaps across rejected events', async () => {
    await pay('ENTERED_SUMMARY');
    await room.payer.expectError('PAYMENT_SUCCESS', { roomId: room.roomId });
    const next = await pay('CLICKED_PROCEED');
    expect(next.seq).toBe(2);
  });

  it('handles one connection in arrival order', async () => {
    const count = 50;
    for (let index = 0; index < count; index += 1) {
      room.payer.send('PAYMENT_METHOD_CHANGED', {
        roomId: room.roomId,
        method: index % 2 === 0 ? 'PIX' : 'BOLETO',
        eventId: `order-${index}`,
      });
    }
    for (let index = 0; index < count; index += 1) {
      const ack = await room.payer.next('ACK');
      expect(ack.data).toMatchObject({
        eventId: `order-${index}`,
        seq: index + 1,
      });
      const relayed = await room.creator.next('PAYMENT_METHOD_CHANGED');
      expect(relayed.data).toMatchObject({ seq: index + 1 });
    }
  });

  it('rejects a payer event from a creator with FORBIDDEN', async () => {
    const error = await room.creator.expectError('CLICKED_PAY', {
      roomId: room.roomId,
      eventId: 'creator-pay',
    });
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      event: 'CLICKED_PAY',
      eventId: 'creator-pay',
    });
    expect(String(error.message)).toContain('CREATOR');
    expect((await pay('CLICKED_PAY')).seq).toBe(1);
  });

  it('rejects an event for a room not joined with NOT_IN_ROOM', async () => {
    const error = await room.payer.expectError('ENTERED_SUMMARY', {
      roomId: 'some-other-room',
    });
    expect(error).toMatchObject({
      code: 'NOT_IN_ROOM',
      event: 'ENTERED_SUMMARY',
    });
    expect((await pay('ENTERED_SUMMARY')).seq).toBe(1);
  });

  it('rejects events after LEAVE_ROOM with NOT_IN_ROOM', async () => {
    await room.payer.request(
      'LEAVE_ROOM',
      { roomId: room.roomId },
      'ROOM_LEFT',
    );
    const error = await room.payer.expectError('ENTERED_SUMMARY', {
      roomId: room.roomId,
    });
    expect(error.code).toBe('NOT_IN_ROOM');
  });
});

/**
 * The transition table: each row is a history of accepted payer events, the
 * event tried next, and whether it is accepted, with the status afterwards.
 */
const TRANSITIONS: {
  before: string[];
  event: string;
  accepted: boolean;
  status: string;
}[] = [
  {
    before: [],
    event: 'ENTERED_SUMMARY',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: [],
    event: 'CLICKED_PROCEED',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: [],
    event: 'PAYMENT_METHOD_CHANGED',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  { before: [], event: 'DATA_FILLED', accepted: true, status: 'IN_PROGRESS' },
  { before: [], event: 'CLICKED_PAY', accepted: true, status: 'IN_PROGRESS' },
  { before: [], event: 'PAYMENT_SUCCESS', accepted: false, status: 'OPEN' },
  { before: [], event: 'PAYMENT_ERROR', accepted: false, status: 'OPEN' },
  {
    before: ['ENTERED_SUMMARY'],
    event: 'PAYMENT_SUCCESS',
    accepted: false,
    status: 'IN_PROGRESS',
  },
  {
    before: ['CLICKED_PAY'],
    event: 'PAYMENT_SUCCESS',
    accepted: true,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY'],
    event: 'PAYMENT_ERROR',
    accepted: true,
    status: 'FAILED',
  },
  {
    before: ['CLICKED_PAY'],
    event: 'CLICKED_PAY',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: ['CLICKED_PAY'],
    event: 'PAYMENT_METHOD_CHANGED',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_METHOD_CHANGED'],
    event: 'PAYMENT_SUCCESS',
    accepted: true,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_ERROR'],
    event: 'PAYMENT_SUCCESS',
    accepted: false,
    status: 'FAILED',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_ERROR'],
    event: 'PAYMENT_ERROR',
    accepted: false,
    status: 'FAILED',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_ERROR'],
    event: 'ENTERED_SUMMARY',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_ERROR'],
    event: 'CLICKED_PAY',
    accepted: true,
    status: 'IN_PROGRESS',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_ERROR', 'CLICKED_PAY'],
    event: 'PAYMENT_SUCCESS',
    accepted: true,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'ENTERED_SUMMARY',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'CLICKED_PROCEED',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'PAYMENT_METHOD_CHANGED',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'DATA_FILLED',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'CLICKED_PAY',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'PAYMENT_SUCCESS',
    accepted: false,
    status: 'PAID',
  },
  {
    before: ['CLICKED_PAY', 'PAYMENT_SUCCESS'],
    event: 'PAYMENT_ERROR',
    accepted: false,
    status: 'PAID',
  },
];

const VALID_DATA: Record<string, Record<string, unknown>> = {
  PAYMENT_METHOD_CHANGED: { method: 'CREDIT_CARD' },
  PAYMENT_ERROR: { code: 'card_declined' },
};

await describeEachStore('transition table', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(store.environment());
  });
  afterAll(() => server.close());

  const rows = TRANSITIONS.map((row) => ({
    ...row,
    history: row.before.join(' > ') || 'nothing',
  }));

  it.each(rows)(
    '$event after $history: accepted $accepted, then $status',
    async ({ before, event, accepted, status }) => {
      const room = await openRoom(server.wsUrl);
      const send = (name: string) => ({
        roomId: room.roomId,
        ...VALID_DATA[name],
      });
      for (const step of before) {
        await room.payer.request(step, send(step));
      }

      if (accepted) {
        const ack = await room.payer.request(event, send(event));
        expect(ack.seq).toBe(before.length + 1);
      } else {
        const error = await room.payer.expectError(event, send(event));
        expect(error).toMatchObject({ code: 'INVALID_TRANSITION', event });
      }

      const details = await fetch(
        `${server.httpUrl}/stats/rooms/${room.roomId}`,
      ).then((response) => response.json() as Promise<Record<string, unknown>>);
      expect(details.status).toBe(status);
      await room.close();
    },
  );

  it('lets a late creator join a PAID room and learn the result', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.request('CLICKED_PAY', { roomId: room.roomId });
    await room.payer.request('PAYMENT_SUCCESS', { roomId: room.roomId });

    const late = await TestClient.connect(server.wsUrl);
    const joined = await late.join(room.roomId, 'CREATOR');
    expect(joined.status).toBe('PAID');
    expect(
      (joined.missed as { event: string }[]).map((frame) => frame.event),
    ).toEqual(['CLICKED_PAY', 'PAYMENT_SUCCESS']);
    await late.close();
    await room.close();
  });
});
