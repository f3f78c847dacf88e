import { Redis } from 'ioredis';
import type { Frame } from '../../src/protocol/index.js';
import { RoomStore } from '../../src/relay/rooms/room-store.js';
import { CHECKOUT_STEPS, uniqueRoomId } from '../support/room-fixture.js';
import {
  describeWithRedis,
  OwnRedisServer,
  redisServerUnavailableReason,
} from '../support/redis-server.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson, waitFor } from '../support/wait-for.js';

/**
 * Runs against a redis-server of its own, which it stops and starts, so it
 * needs the `redis-server` binary rather than the shared Redis.
 */
await describeWithRedis(
  'Redis room store during a Redis outage',
  () => {
    let redis: OwnRedisServer;
    let a: TestServer;
    let b: TestServer;
    const clients: TestClient[] = [];

    async function connect(server: TestServer): Promise<TestClient> {
      const client = await TestClient.connect(server.wsUrl);
      clients.push(client);
      return client;
    }

    function storeOf(server: TestServer): RoomStore {
      return server.app.get(RoomStore);
    }

    beforeAll(async () => {
      redis = await OwnRedisServer.start();
      const environment = {
        ROOM_STORE: 'redis',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'outage:',
        REDIS_COMMAND_TIMEOUT_MS: '500',
        REDIS_RECONNECT_MAX_DELAY_MS: '200',
        INSTANCE_HEARTBEAT_INTERVAL_MS: '200',
      };
      a = await startTestServer({ ...environment, INSTANCE_ID: 'outage-a' });
      b = await startTestServer({ ...environment, INSTANCE_ID: 'outage-b' });
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await a?.close();
      await b?.close();
      await redis?.destroy();
    });

    it('answers UNAVAILABLE while Redis is down and resumes after', async () => {
      const roomId = uniqueRoomId('outage');
      const creator = await connect(a);
      const payer = await connect(b);
      await creator.join(roomId, 'CREATOR', { clientId: 'creator' });
      await payer.join(roomId, 'PAYER', { clientId: 'payer' });
      for (const step of CHECKOUT_STEPS.slice(0, 2)) {
        await payer.request(step.event, { roomId, ...step.data });
      }

      await redis.stop();
      const [third] = CHECKOUT_STEPS.slice(2);
      const rejected = await payer.expectError(third.event, {
        roomId,
        eventId: 'third',
        ...third.data,
      });
      expect(rejected.code).toBe('UNAVAILABLE');
      const newcomer = await connect(a);
      const refusedJoin = await newcomer.expectError('JOIN_ROOM', {
        roomId: uniqueRoomId('during-outage'),
        role: 'CREATOR',
      });
      expect(refusedJoin.code).toBe('UNAVAILABLE');
      expect(storeOf(a).isAvailable()).toBe(false);
      const notReady = await getJson<{ checks: Record<string, string> }>(
        `${a.httpUrl}/health/ready`,
      );
      expect(notReady.status).toBe(503);
      expect(notReady.body.checks.store).not.toBe('ok');
      await payer.sync();
      await creator.sync();

      await redis.restart();
      await waitFor(
        () => storeOf(a).isAvailable() && storeOf(b).isAvailable(),
        'both instances to reconnect to Redis',
      );
      const ready = await getJson(`${a.httpUrl}/health/ready`);
      expect(ready.status).toBe(200);
      const resent = await payer.request(third.event, {
        roomId,
        eventId: 'third',
        ...third.data,
      });
      expect(resent).toMatchObject({ seq: 3, duplicate: false });
      for (const step of CHECKOUT_STEPS.slice(3)) {
        await payer.request(step.event, { roomId, ...step.data });
      }

      const seqs: number[] = [];
      for (const step of CHECKOUT_STEPS) {
        const frame = await creator.next(step.event);
        seqs.push((frame.data as { seq: number }).seq);
      }
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
      await creator.sync();
      expect(
        creator.frames.filter((frame) => 'seq' in (frame.data as object)),
      ).toEqual([]);
    });

    it('resends events missed by a reconnecting subscriber', async () => {
      const roomId = uniqueRoomId('resubscribe');
      const creator = await connect(a);
      const payer = await connect(b);
      await creator.join(roomId, 'CREATOR', { clientId: 'creator' });
      await payer.join(roomId, 'PAYER', { clientId: 'payer' });

      // Cuts every subscriber connection; the command connections stay, so
      // the events below are accepted while the subscribers reconnect.
      const admin = new Redis(redis.url);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      admin.disconnect();
      for (const step of CHECKOUT_STEPS.slice(0, 3)) {
        await payer.request(step.event, { roomId, ...step.data });
      }

      const seqs: number[] = [];
      for (const step of CHECKOUT_STEPS.slice(0, 3)) {
        const frame = await creator.next(step.event);
        seqs.push((frame.data as { seq: number }).seq);
      }
      expect(seqs).toEqual([1, 2, 3]);
      await creator.sync();
      const extra = creator.frames.filter(
        (frame) => 'seq' in (frame.data as object),
      );
      expect(extra).toEqual([]);
      await waitFor(
        () => storeOf(a).isAvailable() && storeOf(b).isAvailable(),
        'both subscribers to reconnect',
      );
    });

    it('keeps rooms accepted before the outage', async () => {
      const roomId = uniqueRoomId('kept');
      const payer = await connect(a);
      await payer.join(roomId, 'PAYER', { clientId: 'payer' });
      await payer.request('CLICKED_PAY', { roomId });

      await redis.stop();
      await redis.restart();
      await waitFor(() => storeOf(b).isAvailable(), 'instance B to reconnect');

      const room = await getJson<{ status: string; seq: number }>(
        `${b.httpUrl}/stats/rooms/${roomId}`,
      );
      expect(room.body).toMatchObject({ status: 'IN_PROGRESS', seq: 1 });
      const reader = await connect(b);
      const joined = await reader.join(roomId, 'CREATOR', { lastSeq: 0 });
      expect((joined.missed as Frame[]).map((frame) => frame.event)).toEqual([
        'CLICKED_PAY',
      ]);
    });
  },
  redisServerUnavailableReason,
);
