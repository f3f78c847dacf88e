import { CHECKOUT_STEPS, uniqueRoomId } from '../support/room-fixture.js';
import {
  deleteKeys,
  describeWithRedis,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../support/redis-server.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson, waitFor } from '../support/wait-for.js';

interface StatsBody {
  totalRooms: number;
  totalClients: number;
  instances: number;
  instance: { instanceId: string; rooms: number; clients: number };
}

await describeWithRedis('Redis room store across instances', () => {
  const prefix = uniqueKeyPrefix('cluster');
  const servers: TestServer[] = [];
  const clients: TestClient[] = [];
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;

  async function connect(server: TestServer): Promise<TestClient> {
    const client = await TestClient.connect(server.wsUrl);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    for (const name of ['a', 'b', 'c']) {
      servers.push(
        await startTestServer({
          ROOM_STORE: 'redis',
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
          INSTANCE_ID: `cluster-${name}`,
          INSTANCE_HEARTBEAT_INTERVAL_MS: '200',
        }),
      );
    }
    [a, b, c] = servers;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await deleteKeys(prefix);
  });

  it('runs the flow with creator and payer on different instances', async () => {
    const roomId = uniqueRoomId('across');
    const creator = await connect(a);
    const payer = await connect(b);
    await creator.join(roomId, 'CREATOR', { clientId: 'creator' });
    await payer.join(roomId, 'PAYER', { clientId: 'payer' });
    const joined = await creator.next('PEER_JOINED');
    expect(joined.data).toMatchObject({ clientId: 'payer', role: 'PAYER' });

    for (const [index, step] of CHECKOUT_STEPS.entries()) {
      const ack = await payer.request(step.event, { roomId, ...step.data });
      expect(ack.seq).toBe(index + 1);
      expect(ack.deliveredTo).toBe(1);
    }
    for (const [index, step] of CHECKOUT_STEPS.entries()) {
      const relayed = await creator.next(step.event);
      expect(relayed.data).toMatchObject({ roomId, seq: index + 1 });
    }

    const room = await getJson<{ status: string; seq: number }>(
      `${c.httpUrl}/stats/rooms/${roomId}`,
    );
    expect(room.body.status).toBe('PAID');
    expect(room.body.seq).toBe(CHECKOUT_STEPS.length);
  });

  it('delivers in seq order to members on three instances', async () => {
    const roomId = uniqueRoomId('three');
    const creatorA = await connect(a);
    const creatorC = await connect(c);
    const payer = await connect(b);
    await creatorA.join(roomId, 'CREATOR', { clientId: 'creator-a' });
    await creatorC.join(roomId, 'CREATOR', { clientId: 'creator-c' });
    await payer.join(roomId, 'PAYER', { clientId: 'payer' });

    const sent = 30;
    for (let index = 0; index < sent; index += 1) {
      payer.send('PAYMENT_METHOD_CHANGED', {
        roomId,
        method: `METHOD_${index}`,
      });
    }
    for (let index = 0; index < sent; index += 1) {
      const ack = await payer.nextMatching(
        (frame) => frame.event === 'ACK' || frame.event === 'ERROR',
      );
      expect(ack.data).toMatchObject({ seq: index + 1, deliveredTo: 2 });
    }
    for (const creator of [creatorA, creatorC]) {
      const seqs: number[] = [];
      for (let index = 0; index < sent; index += 1) {
        const frame = await creator.next('PAYMENT_METHOD_CHANGED');
        seqs.push((frame.data as { seq: number }).seq);
      }
      expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    }
  });

  it('catches a duplicate resent through another instance', async () => {
    const roomId = uniqueRoomId('duplicate');
    const creator = await connect(a);
    const payerOnA = await connect(a);
    await creator.join(roomId, 'CREATOR');
    await payerOnA.join(roomId, 'PAYER', { clientId: 'payer' });
    const first = await payerOnA.request('CLICKED_PROCEED', {
      roomId,
      eventId: 'proceed-1',
    });

    const payerOnB = await connect(b);
    await payerOnB.join(roomId, 'PAYER', { clientId: 'payer', lastSeq: 1 });
    const again = await payerOnB.request('CLICKED_PROCEED', {
      roomId,
      eventId: 'proceed-1',
    });

    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    await creator.next('CLICKED_PROCEED');
    await creator.sync();
    expect(creator.queued('CLICKED_PROCEED')).toHaveLength(0);
  });

  it('lets one of two racing payers in', async () => {
    const roomId = uniqueRoomId('race');
    const payers = [await connect(a), await connect(b), await connect(c)];
    const joins = await Promise.allSettled(
      payers.map((payer, index) =>
        payer.join(roomId, 'PAYER', { clientId: `payer-${index}` }),
      ),
    );

    const winners = joins.filter((join) => join.status === 'fulfilled');
    const losers = joins.filter((join) => join.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(2);
    for (const loser of losers) {
      expect(String(loser.reason)).toContain('ROOM_FULL');
    }
  });

  it('accepts one of two racing results', async () => {
    const roomId = uniqueRoomId('results');
    const creator = await connect(a);
    const payerOnB = await connect(b);
    await creator.join(roomId, 'CREATOR');
    await payerOnB.join(roomId, 'PAYER', { clientId: 'payer' });
    await payerOnB.request('CLICKED_PAY', { roomId });

    // The payer's old connection on B sends one result while the same
    // payer, reconnecting through C, takes over and sends the other.
    const payerOnC = await connect(c);
    const outcomes = await Promise.allSettled([
      payerOnB.request('PAYMENT_SUCCESS', { roomId }),
      (async () => {
        await payerOnC.join(roomId, 'PAYER', { clientId: 'payer', lastSeq: 1 });
        return payerOnC.request('PAYMENT_ERROR', { roomId, code: 'DECLINED' });
      })(),
    ]);

    const accepted = outcomes.filter((o) => o.status === 'fulfilled');
    expect(accepted).toHaveLength(1);
    const room = await getJson<{ status: string; seq: number }>(
      `${a.httpUrl}/stats/rooms/${roomId}`,
    );
    expect(room.body.seq).toBe(2);
    expect(room.body.status).toBe(
      outcomes[0].status === 'fulfilled' ? 'PAID' : 'FAILED',
    );
  });

  it('reports presence across instances', async () => {
    const roomId = uniqueRoomId('presence');
    const creator = await connect(a);
    const payer = await connect(b);
    await creator.join(roomId, 'CREATOR');
    await payer.join(roomId, 'PAYER', { clientId: 'payer' });
    await creator.next('PEER_JOINED');

    await payer.request('LEAVE_ROOM', { roomId }, 'ROOM_LEFT');
    const left = await creator.next('PEER_LEFT');

    expect(left.data).toMatchObject({ clientId: 'payer', role: 'PAYER' });
  });

  it('counts rooms and clients of every instance in stats', async () => {
    const roomId = uniqueRoomId('stats');
    const creator = await connect(a);
    const payer = await connect(b);
    const watcher = await connect(b);
    await creator.join(roomId, 'CREATOR');
    await payer.join(roomId, 'PAYER', { clientId: 'payer' });
    await watcher.sync();

    const stats = await getJson<StatsBody>(`${a.httpUrl}/stats?limit=1`);

    expect(stats.status).toBe(200);
    expect(stats.body.instances).toBe(3);
    expect(stats.body.instance).toEqual({
      instanceId: 'cluster-a',
      rooms: 1,
      clients: 1,
    });
    // B's count reaches A with B's next heartbeat.
    await expect(
      waitForStats(a, (body) => body.totalClients === 3),
    ).resolves.toBeDefined();
  });
});

function waitForStats(
  server: TestServer,
  matches: (body: StatsBody) => boolean,
): Promise<StatsBody> {
  return waitFor(async () => {
    const { body } = await getJson<StatsBody>(`${server.httpUrl}/stats`);
    return matches(body) ? body : undefined;
  }, 'cluster-wide stats');
}
