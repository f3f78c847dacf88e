import { uniqueRoomId } from '../support/room-fixture.js';
import {
  deleteKeys,
  describeWithRedis,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../support/redis-server.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  ADMIN_TOKEN,
  http,
  postResult,
  RESULT_API_KEY,
} from '../security/security-helpers.js';

/** The result endpoint's cases that depend on the store, on Redis. */
await describeWithRedis('verified payment results on Redis', () => {
  const prefix = uniqueKeyPrefix('results');
  let server: TestServer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      RESULT_API_KEY,
      REQUIRE_VERIFIED_RESULT: 'true',
      ADMIN_TOKEN,
      ROOM_STORE: 'redis',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server?.close();
    await deleteKeys(prefix);
  });

  it('creates the room for a device that joins later', async () => {
    const roomId = uniqueRoomId('early-result');

    const reply = await postResult(server.httpUrl, roomId, {
      event: 'PAYMENT_ERROR',
      eventId: 'early-1',
      code: 'CARD_DECLINED',
      message: 'Declined by the issuer',
    });

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      seq: 1,
      deliveredTo: 0,
      status: 'FAILED',
    });
    const stats = await http(`${server.httpUrl}/stats/rooms/${roomId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(stats.body).toMatchObject({ status: 'FAILED', members: [] });

    const creator = await TestClient.connect(server.wsUrl);
    clients.push(creator);
    const joined = await creator.join(roomId, 'CREATOR');
    expect(joined).toMatchObject({ status: 'FAILED', seq: 1 });
    const missed = joined.missed as { event: string; data: unknown }[];
    expect(missed).toHaveLength(1);
    expect(missed[0].event).toBe('PAYMENT_ERROR');
    expect(missed[0].data).toMatchObject({
      eventId: 'early-1',
      verified: true,
      code: 'CARD_DECLINED',
    });
  });
});
