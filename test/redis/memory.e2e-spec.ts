import { Redis } from 'ioredis';
import { BUILT_IN_FLOW_EVENTS } from '../../src/relay/flow/built-in-events.js';
import { relayedEventTemplate } from '../../src/relay/frames.js';
import { RedisRoomStore } from '../../src/relay/rooms/redis/redis-room-store.js';
import { DEFAULT_ROOM_STORE_OPTIONS } from '../../src/relay/rooms/redis/store-options.js';
import { DEFAULT_RELAY_OPTIONS } from '../../src/relay/relay-options.js';
import { CHECKOUT_STEPS } from '../support/room-fixture.js';
import {
  describeWithRedis,
  OwnRedisServer,
  redisServerUnavailableReason,
} from '../support/redis-server.js';

const ROOMS = 1_000;

/** Upper bound of the Redis memory one finished room may take, in bytes. */
const MAX_BYTES_PER_ROOM = 16 * 1024;

/**
 * Measures what a finished payment costs in Redis: `used_memory` of a
 * redis-server of the test's own before and after `ROOMS` rooms, each with
 * a creator, a payer and the whole checkout, and again once the sweep
 * removed them. The numbers are printed so docs/scaling.md can quote them.
 */
await describeWithRedis(
  'Redis memory per room',
  () => {
    let redis: OwnRedisServer;
    let store: RedisRoomStore;
    let client: Redis;

    async function usedMemory(): Promise<number> {
      const info = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)?.[1]);
    }

    beforeAll(async () => {
      redis = await OwnRedisServer.start(false);
      client = new Redis(redis.url);
      store = new RedisRoomStore(
        {
          maxCreators: DEFAULT_RELAY_OPTIONS.roomMaxCreators,
          historyLimit: DEFAULT_RELAY_OPTIONS.roomHistoryLimit,
          maxEvents: DEFAULT_RELAY_OPTIONS.roomMaxEvents,
          idleTtlMs: DEFAULT_RELAY_OPTIONS.roomIdleTtlMs,
          maxAgeMs: DEFAULT_RELAY_OPTIONS.roomMaxAgeMs,
        },
        { ...DEFAULT_ROOM_STORE_OPTIONS, redisUrl: redis.url },
        'memory-test',
      );
      await store.onModuleInit();
    });

    afterAll(async () => {
      await store?.onApplicationShutdown();
      client?.disconnect();
      await redis?.destroy();
    });

    it('stays bounded and returns after the sweep', async () => {
      const now = Date.now();
      const keysBefore = await client.dbsize();
      const before = await usedMemory();

      for (let index = 0; index < ROOMS; index += 1) {
        await runCheckout(
          store,
          `order-${String(index).padStart(8, '0')}`,
          now,
        );
      }
      const after = await usedMemory();
      const perRoom = Math.round((after - before) / ROOMS);
      process.stdout.write(
        `Redis memory per finished room: ${perRoom} bytes (${ROOMS} rooms, redis ${await redisVersion(client)})\n`,
      );

      for (let index = 0; index < ROOMS; index += 1) {
        const roomId = `order-${String(index).padStart(8, '0')}`;
        await store.leave(roomId, `${roomId}-creator`, now);
        await store.leave(roomId, `${roomId}-payer`, now);
      }
      let removed = 0;
      for (;;) {
        const outcome = await store.sweep(
          now + DEFAULT_RELAY_OPTIONS.roomIdleTtlMs,
        );
        if (outcome.removed.length === 0) {
          break;
        }
        removed += outcome.removed.length;
      }
      const swept = await usedMemory();
      process.stdout.write(
        `Redis memory after the sweep: ${swept - before} bytes above the start\n`,
      );

      expect(perRoom).toBeLessThan(MAX_BYTES_PER_ROOM);
      expect(removed).toBe(ROOMS);
      expect(await client.dbsize()).toBe(keysBefore);
      // Redis keeps some freed memory (allocator pages, hash tables that
      // shrink later), so only most of it comes back at once.
      expect(swept - before).toBeLessThan((after - before) / 2);
    }, 60_000);
  },
  redisServerUnavailableReason,
);

/** Joins a creator and a payer and runs the whole checkout, with real frames. */
async function runCheckout(
  store: RedisRoomStore,
  roomId: string,
  now: number,
): Promise<void> {
  for (const role of ['CREATOR', 'PAYER'] as const) {
    const connectionId = `${roomId}-${role === 'CREATOR' ? 'creator' : 'payer'}`;
    await store.join({
      roomId,
      member: {
        clientId: connectionId,
        role,
        connectionId,
        joinedAt: now,
        receivedSeq: 0,
      },
      now,
    });
  }

  for (const [index, step] of CHECKOUT_STEPS.entries()) {
    const definition = BUILT_IN_FLOW_EVENTS.find((d) => d.name === step.event);
    const eventId = `${roomId}-event-${index}`;
    await store.append({
      roomId,
      connectionId: `${roomId}-payer`,
      event: step.event,
      eventId,
      effect: definition!.effect,
      frame: relayedEventTemplate(
        step.event,
        roomId,
        eventId,
        new Date(now).toISOString(),
        { clientId: `${roomId}-payer`, role: 'PAYER' },
        step.data,
      ),
      now,
    });
  }
}

async function redisVersion(client: Redis): Promise<string> {
  const info = await client.info('server');
  return /redis_version:([\d.]+)/.exec(info)?.[1] ?? 'unknown';
}
