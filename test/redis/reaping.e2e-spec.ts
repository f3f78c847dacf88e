import { Redis } from 'ioredis';
import type { Frame } from '../../src/protocol/index.js';
import { RedisKeys } from '../../src/relay/rooms/redis/redis-keys.js';
import { RoomStore } from '../../src/relay/rooms/room-store.js';
import { uniqueRoomId } from '../support/room-fixture.js';
import {
  describeWithRedis,
  OwnRedisServer,
  redisServerUnavailableReason,
} from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { TestClient, type CloseInfo } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { getJson, waitFor } from '../support/wait-for.js';

const HEARTBEAT_MS = 100;
const DEAD_AFTER_MS = 600;
const KEY_PREFIX = 'reaping:';

/**
 * Instance A reaches Redis through a TCP proxy, so a test can cut A alone
 * off; instance B connects directly. The Redis server is the test's own,
 * because the first test stops and restarts it.
 */
await describeWithRedis(
  'Redis room store reaping silent instances',
  () => {
    let redis: OwnRedisServer;
    let proxy: TcpProxy;
    let admin: Redis;
    let a: TestServer;
    let b: TestServer;
    const keys = new RedisKeys(KEY_PREFIX);
    const clients: TestClient[] = [];

    async function connect(server: TestServer): Promise<TestClient> {
      const client = await TestClient.connect(server.wsUrl);
      clients.push(client);
      return client;
    }

    function available(server: TestServer): boolean {
      return server.app.get(RoomStore).isAvailable();
    }

    /** Waits until each instance recorded `count` more heartbeats in Redis. */
    async function heartbeats(count: number): Promise<void> {
      for (const instanceId of ['reaping-a', 'reaping-b']) {
        const seen = new Set<string>();
        await waitFor(async () => {
          const score = await admin.zscore(keys.instances, instanceId);
          if (score !== null) {
            seen.add(score);
          }
          return seen.size > count;
        }, `${count} heartbeats of ${instanceId}`);
      }
    }

    /** Resolves with the close, or with `undefined` after `timeoutMs`. */
    async function closedWithin(
      client: TestClient,
      timeoutMs: number,
    ): Promise<CloseInfo | undefined> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      });
      const closed = await Promise.race([client.closed, timeout]);
      clearTimeout(timer);
      return closed;
    }

    async function memberCount(roomId: string): Promise<number> {
      const room = await getJson<{ members: unknown[] }>(
        `${b.httpUrl}/stats/rooms/${roomId}`,
      );
      return room.body.members.length;
    }

    beforeAll(async () => {
      redis = await OwnRedisServer.start();
      proxy = await TcpProxy.start(redis.port);
      admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      const environment = {
        ROOM_STORE: 'redis',
        REDIS_KEY_PREFIX: KEY_PREFIX,
        REDIS_COMMAND_TIMEOUT_MS: '300',
        REDIS_RECONNECT_MAX_DELAY_MS: '100',
        INSTANCE_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
        INSTANCE_DEAD_AFTER_MS: String(DEAD_AFTER_MS),
      };
      a = await startTestServer({
        ...environment,
        INSTANCE_ID: 'reaping-a',
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      });
      b = await startTestServer({
        ...environment,
        INSTANCE_ID: 'reaping-b',
        REDIS_URL: redis.url,
      });
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await a?.close();
      await b?.close();
      admin?.disconnect();
      await proxy?.close();
      await redis?.destroy();
    });

    it('keeps every member after an outage longer than the death time', async () => {
      const roomId = uniqueRoomId('long-outage');
      const creator = await connect(a);
      const payer = await connect(b);
      await creator.join(roomId, 'CREATOR', { clientId: 'creator' });
      await payer.join(roomId, 'PAYER', { clientId: 'payer' });
      await payer.request('ENTERED_SUMMARY', { roomId });
      await creator.next('ENTERED_SUMMARY');

      await redis.stop();
      await waitFor(
        () => !available(a) && !available(b),
        'both instances to lose Redis',
      );
      // The outage itself: every heartbeat in Redis gets older than the
      // death time before Redis comes back.
      await new Promise((resolve) => setTimeout(resolve, 2 * DEAD_AFTER_MS));
      await redis.restart();
      await waitFor(
        () => available(a) && available(b),
        'both instances to reconnect',
      );
      await heartbeats(3);

      expect(await memberCount(roomId)).toBe(2);
      const ack = await payer.request('CLICKED_PAY', { roomId });
      expect(ack).toMatchObject({ seq: 2, deliveredTo: 1 });
      const relayed = await creator.next('CLICKED_PAY');
      expect(relayed.data).toMatchObject({ seq: 2 });
      expect(creator.queued('PEER_LEFT')).toEqual([]);
      expect(payer.queued('PEER_LEFT')).toEqual([]);
    }, 20_000);

    it('closes the connections of a reaped instance with 1012', async () => {
      const roomId = uniqueRoomId('reaped');
      const creator = await connect(a);
      const payer = await connect(b);
      await creator.join(roomId, 'CREATOR', { clientId: 'creator' });
      await payer.join(roomId, 'PAYER', { clientId: 'payer' });
      await creator.next('PEER_JOINED');
      await payer.request('ENTERED_SUMMARY', { roomId });

      proxy.setAccepting(false);
      proxy.cutAll();
      const left = await payer.next('PEER_LEFT', DEAD_AFTER_MS + 3_000);
      expect(left.data).toMatchObject({ clientId: 'creator', role: 'CREATOR' });
      expect(await memberCount(roomId)).toBe(1);
      proxy.setAccepting(true);

      const closed = await closedWithin(creator, 5_000);
      expect(closed?.code).toBe(1012);

      const device = await connect(a);
      const joined = await device.join(roomId, 'CREATOR', {
        clientId: 'creator',
        lastSeq: 0,
      });
      expect((joined.missed as Frame[]).map((frame) => frame.event)).toEqual([
        'ENTERED_SUMMARY',
      ]);
      await payer.next('PEER_JOINED');
      const ack = await payer.request('CLICKED_PROCEED', { roomId });
      expect(ack).toMatchObject({ seq: 2, deliveredTo: 1 });
      await device.next('CLICKED_PROCEED');
    }, 20_000);
  },
  redisServerUnavailableReason,
);
