import { WebSocket } from 'ws';
import { describeEachStore } from '../support/stores.js';
import { openRoom, uniqueRoomId } from '../support/room-fixture.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson, waitFor } from '../support/wait-for.js';

type Missed = { event: string; data: { seq: number } }[];

await describeEachStore('room membership', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      ...store.environment(),
      ROOM_MAX_CREATORS: '2',
      MAX_ROOMS_PER_CONNECTION: '3',
      ROOM_HISTORY_LIMIT: '5',
      ROOM_MAX_EVENTS: '8',
    });
  });
  afterAll(() => server.close());

  it('creates the room on the first join, whichever role', async () => {
    const roomId = uniqueRoomId();
    const payer = await TestClient.connect(server.wsUrl);
    const joined = await payer.join(roomId, 'PAYER', { clientId: 'p-1' });
    expect(joined).toMatchObject({
      roomId,
      clientId: 'p-1',
      role: 'PAYER',
      seq: 0,
      status: 'OPEN',
      peers: [],
      missed: [],
      truncated: false,
    });
    expect(Date.parse(String(joined.createdAt))).not.toBeNaN();
    await payer.close();
  });

  it('assigns a clientId when none is given', async () => {
    const client = await TestClient.connect(server.wsUrl);
    const joined = await client.join(uniqueRoomId(), 'CREATOR');
    expect(joined.clientId).toMatch(/^[0-9a-f-]{36}$/);
    await client.close();
  });

  it('lists peers and announces joins and leaves', async () => {
    const room = await openRoom(server.wsUrl);
    const second = await TestClient.connect(server.wsUrl);
    const joined = await second.join(room.roomId, 'CREATOR', {
      clientId: 'c-2',
    });
    expect(joined.peers).toEqual(
      expect.arrayContaining([
        { clientId: `${room.roomId}-creator`, role: 'CREATOR' },
        { clientId: `${room.roomId}-payer`, role: 'PAYER' },
      ]),
    );
    expect((await room.payer.next('PEER_JOINED')).data).toEqual({
      roomId: room.roomId,
      clientId: 'c-2',
      role: 'CREATOR',
    });

    const left = await second.request(
      'LEAVE_ROOM',
      { roomId: room.roomId },
      'ROOM_LEFT',
    );
    expect(left).toEqual({ roomId: room.roomId, reason: 'LEFT' });
    expect((await room.payer.next('PEER_LEFT')).data).toEqual({
      roomId: room.roomId,
      clientId: 'c-2',
      role: 'CREATOR',
    });
    await second.close();
    await room.close();
  });

  it('announces PEER_LEFT when a connection closes', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.close();
    expect((await room.creator.next('PEER_LEFT')).data).toMatchObject({
      clientId: `${room.roomId}-payer`,
      role: 'PAYER',
    });
    await room.close();
  });

  it('rejects a second payer with ROOM_FULL', async () => {
    const room = await openRoom(server.wsUrl);
    const intruder = await TestClient.connect(server.wsUrl);
    const error = await intruder.expectError('JOIN_ROOM', {
      roomId: room.roomId,
      role: 'PAYER',
      clientId: 'other-payer',
    });
    expect(error).toMatchObject({ code: 'ROOM_FULL', event: 'JOIN_ROOM' });
    await intruder.sync();
    await room.close();
    await intruder.close();
  });

  it('rejects creators beyond ROOM_MAX_CREATORS with ROOM_FULL', async () => {
    const room = await openRoom(server.wsUrl);
    const second = await TestClient.connect(server.wsUrl);
    await second.join(room.roomId, 'CREATOR', { clientId: 'c-2' });
    const third = await TestClient.connect(server.wsUrl);
    const error = await third.expectError('JOIN_ROOM', {
      roomId: room.roomId,
      role: 'CREATOR',
      clientId: 'c-3',
    });
    expect(error.code).toBe('ROOM_FULL');
    await Promise.all([second.close(), third.close(), room.close()]);
  });

  it('replaces the older connection of the same clientId', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.request('ENTERED_SUMMARY', { roomId: room.roomId });

    const newer = await TestClient.connect(server.wsUrl);
    const joined = await newer.join(room.roomId, 'PAYER', {
      clientId: `${room.roomId}-payer`,
      lastSeq: 1,
    });
    expect(joined).toMatchObject({ seq: 1, missed: [] });
    expect((await room.payer.next('ROOM_LEFT')).data).toEqual({
      roomId: room.roomId,
      reason: 'REPLACED',
    });

    const stale = await room.payer.expectError('CLICKED_PROCEED', {
      roomId: room.roomId,
    });
    expect(stale.code).toBe('NOT_IN_ROOM');
    const ack = await newer.request('CLICKED_PROCEED', { roomId: room.roomId });
    expect(ack).toMatchObject({ seq: 2, deliveredTo: 1 });

    await newer.close();
    await room.close();
  });

  it('keeps a replaced connection out of the room when it closes', async () => {
    const room = await openRoom(server.wsUrl);
    const newer = await TestClient.connect(server.wsUrl);
    await newer.join(room.roomId, 'PAYER', {
      clientId: `${room.roomId}-payer`,
    });
    await room.payer.next('ROOM_LEFT');
    await room.payer.close();

    const ack = await newer.request('ENTERED_SUMMARY', { roomId: room.roomId });
    expect(ack.deliveredTo).toBe(1);
    await room.creator.sync();
    expect(room.creator.queued('PEER_LEFT')).toHaveLength(0);
    await newer.close();
    await room.close();
  });

  it('rejects a takeover of a clientId held by another role', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.request(
      'LEAVE_ROOM',
      { roomId: room.roomId },
      'ROOM_LEFT',
    );
    const error = await room.payer.expectError('JOIN_ROOM', {
      roomId: room.roomId,
      role: 'PAYER',
      clientId: `${room.roomId}-creator`,
    });
    expect(error).toMatchObject({ code: 'FORBIDDEN', event: 'JOIN_ROOM' });

    await room.creator.sync();
    expect(room.creator.queued('ROOM_LEFT')).toHaveLength(0);
    const { body } = await getJson(
      `${server.httpUrl}/stats/rooms/${room.roomId}`,
    );
    expect(body.members).toEqual([
      expect.objectContaining({
        clientId: `${room.roomId}-creator`,
        role: 'CREATOR',
      }),
    ]);
    await room.close();
  });

  it('rejects a re-join of the same connection as someone else', async () => {
    const room = await openRoom(server.wsUrl);
    const asCreator = await room.payer.expectError('JOIN_ROOM', {
      roomId: room.roomId,
      role: 'CREATOR',
    });
    expect(asCreator.code).toBe('FORBIDDEN');
    const renamed = await room.payer.expectError('JOIN_ROOM', {
      roomId: room.roomId,
      role: 'PAYER',
      clientId: 'another-name',
    });
    expect(renamed.code).toBe('FORBIDDEN');

    const again = await room.payer.join(room.roomId, 'PAYER');
    expect(again.clientId).toBe(`${room.roomId}-payer`);
    await room.close();
  });

  it('rejects joins beyond MAX_ROOMS_PER_CONNECTION', async () => {
    const dashboard = await TestClient.connect(server.wsUrl);
    for (let index = 0; index < 3; index += 1) {
      await dashboard.join(uniqueRoomId('dash'), 'CREATOR');
    }
    const error = await dashboard.expectError('JOIN_ROOM', {
      roomId: uniqueRoomId('dash'),
      role: 'CREATOR',
    });
    expect(error.code).toBe('TOO_MANY_ROOMS');
    await dashboard.sync();
    await dashboard.close();
  });

  it('returns missed events after lastSeq on rejoin', async () => {
    const room = await openRoom(server.wsUrl);
    for (const event of ['ENTERED_SUMMARY', 'CLICKED_PROCEED', 'CLICKED_PAY']) {
      await room.payer.request(event, { roomId: room.roomId });
    }
    const live = await room.creator.next('ENTERED_SUMMARY');

    const returning = await TestClient.connect(server.wsUrl);
    const joined = await returning.join(room.roomId, 'CREATOR', {
      clientId: `${room.roomId}-creator`,
      lastSeq: 1,
    });
    const missed = joined.missed as Missed;
    expect(missed.map((frame) => frame.event)).toEqual([
      'CLICKED_PROCEED',
      'CLICKED_PAY',
    ]);
    expect(missed.map((frame) => frame.data.seq)).toEqual([2, 3]);
    expect(joined.truncated).toBe(false);

    const fresh = await TestClient.connect(server.wsUrl);
    const all = await fresh.join(room.roomId, 'CREATOR', { clientId: 'fresh' });
    expect((all.missed as Missed)[0]).toEqual(live);
    await fresh.close();
    await returning.close();
    await room.close();
  });

  it('flags truncated history past ROOM_HISTORY_LIMIT', async () => {
    const room = await openRoom(server.wsUrl);
    for (let index = 0; index < 7; index += 1) {
      await room.payer.request('PAYMENT_METHOD_CHANGED', {
        roomId: room.roomId,
        method: 'PIX',
      });
    }
    const returning = await TestClient.connect(server.wsUrl);
    const joined = await returning.join(room.roomId, 'CREATOR', {
      clientId: `${room.roomId}-creator`,
      lastSeq: 1,
    });
    expect((joined.missed as Missed).map((frame) => frame.data.seq)).toEqual([
      3, 4, 5, 6, 7,
    ]);
    expect(joined.truncated).toBe(true);

    const recent = await returning.join(room.roomId, 'CREATOR', {
      clientId: `${room.roomId}-creator`,
      lastSeq: 4,
    });
    expect(recent.truncated).toBe(false);
    await returning.close();
    await room.close();
  });

  it('rejects events past ROOM_MAX_EVENTS with ROOM_FULL', async () => {
    const room = await openRoom(server.wsUrl);
    for (let index = 0; index < 8; index += 1) {
      await room.payer.request('DATA_FILLED', { roomId: room.roomId });
    }
    const error = await room.payer.expectError('DATA_FILLED', {
      roomId: room.roomId,
    });
    expect(error.code).toBe('ROOM_FULL');
    await room.close();
  });

  it('rejects expiresAt from a payer', async () => {
    const payer = await TestClient.connect(server.wsUrl);
    const error = await payer.expectError('JOIN_ROOM', {
      roomId: uniqueRoomId(),
      role: 'PAYER',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      expect.objectContaining({ field: 'expiresAt' }),
    ]);
    await payer.close();
  });

  it('rejects an expiresAt in the past', async () => {
    const creator = await TestClient.connect(server.wsUrl);
    const error = await creator.expectError('JOIN_ROOM', {
      roomId: uniqueRoomId(),
      role: 'CREATOR',
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(error.code).toBe('VALIDATION_FAILED');
    await creator.close();
  });
});

await describeEachStore('room lifecycle', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      ...store.environment(),
      ROOM_IDLE_TTL_MS: '400',
      ROOM_SWEEP_INTERVAL_MS: '25',
      HEARTBEAT_INTERVAL_MS: '100',
    });
  });
  afterAll(() => server.close());

  const roomStatus = async (roomId: string) =>
    (await getJson(`${server.httpUrl}/stats/rooms/${roomId}`)).status;

  it('closes the room when the link expires', async () => {
    const roomId = uniqueRoomId();
    const creator = await TestClient.connect(server.wsUrl);
    await creator.join(roomId, 'CREATOR', {
      expiresAt: new Date(Date.now() + 200).toISOString(),
    });
    const payer = await TestClient.connect(server.wsUrl);
    await payer.join(roomId, 'PAYER');

    expect((await creator.next('ROOM_CLOSED')).data).toEqual({
      roomId,
      reason: 'EXPIRED',
    });
    expect((await payer.next('ROOM_CLOSED')).data).toEqual({
      roomId,
      reason: 'EXPIRED',
    });
    const late = await payer.expectError('JOIN_ROOM', {
      roomId,
      role: 'PAYER',
    });
    expect(late.code).toBe('ROOM_CLOSED');
    const event = await payer.expectError('CLICKED_PAY', { roomId });
    expect(event.code).toBe('NOT_IN_ROOM');
    await Promise.all([creator.close(), payer.close()]);
  });

  it('closes an expired room that has no member', async () => {
    const roomId = uniqueRoomId();
    const creator = await TestClient.connect(server.wsUrl);
    await creator.join(roomId, 'CREATOR', {
      expiresAt: new Date(Date.now() + 150).toISOString(),
    });
    await creator.request('LEAVE_ROOM', { roomId }, 'ROOM_LEFT');

    await waitFor(async () => {
      const { body } = await getJson(`${server.httpUrl}/stats/rooms/${roomId}`);
      return body.closedReason === 'EXPIRED';
    }, 'the empty room to close');
    const late = await creator.expectError('JOIN_ROOM', {
      roomId,
      role: 'PAYER',
    });
    expect(late.code).toBe('ROOM_CLOSED');
    await creator.close();
  });

  it('removes an empty room after ROOM_IDLE_TTL_MS', async () => {
    const room = await openRoom(server.wsUrl);
    await room.payer.request('ENTERED_SUMMARY', { roomId: room.roomId });
    await room.close();

    await waitFor(
      async () => (await roomStatus(room.roomId)) === 404,
      'the idle room to be removed',
    );
    const again = await TestClient.connect(server.wsUrl);
    const joined = await again.join(room.roomId, 'CREATOR');
    expect(joined).toMatchObject({ seq: 0, status: 'OPEN', missed: [] });
    await again.close();
  });

  it('keeps an empty room for a reconnect within the TTL', async () => {
    const creator = await TestClient.connect(server.wsUrl);
    const roomId = uniqueRoomId();
    await creator.join(roomId, 'CREATOR');
    const payer = await TestClient.connect(server.wsUrl);
    await payer.join(roomId, 'PAYER');
    await payer.request('ENTERED_SUMMARY', { roomId });
    await creator.close();
    await payer.close();

    const back = await TestClient.connect(server.wsUrl);
    const joined = await back.join(roomId, 'CREATOR', { lastSeq: 0 });
    expect(joined.seq).toBe(1);
    await back.close();
  });

  it('terminates a connection that misses a heartbeat', async () => {
    const room = await openRoom(server.wsUrl);
    const silent = new WebSocket(server.wsUrl, { autoPong: false });
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send(
      JSON.stringify({
        event: 'JOIN_ROOM',
        data: { roomId: room.roomId, role: 'CREATOR', clientId: 'silent' },
      }),
    );
    await room.payer.next('PEER_JOINED');

    const closed = new Promise<number>((resolve) =>
      silent.once('close', (code) => resolve(code)),
    );
    expect((await room.payer.next('PEER_LEFT', 2_000)).data).toMatchObject({
      clientId: 'silent',
    });
    expect(await closed).toBe(1006);

    const ack = await room.payer.request('ENTERED_SUMMARY', {
      roomId: room.roomId,
    });
    expect(ack.deliveredTo).toBe(1);
    await room.close();
  });
});

await describeEachStore('maximum room age', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      ...store.environment(),
      ROOM_MAX_AGE_MS: '1000',
      ROOM_SWEEP_INTERVAL_MS: '25',
    });
  });
  afterAll(() => server.close());

  it('closes any room at ROOM_MAX_AGE_MS', async () => {
    const roomId = uniqueRoomId();
    const creator = await TestClient.connect(server.wsUrl);
    await creator.join(roomId, 'CREATOR');
    const closed = await creator.next('ROOM_CLOSED', 3_000);
    expect(closed.data).toEqual({ roomId, reason: 'MAX_AGE' });
    await creator.close();
  });
});
