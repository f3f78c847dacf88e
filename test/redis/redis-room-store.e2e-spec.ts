import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RoomStatus } from '../../src/protocol/index.js';
import { BUILT_IN_FLOW_EVENTS } from '../../src/relay/flow/built-in-events.js';
import {
  applyFlowEffect,
  type FlowEffect,
  type FlowState,
} from '../../src/relay/flow/flow-effect.js';
import { RedisKeys } from '../../src/relay/rooms/redis/redis-keys.js';
import {
  KEY_TTL_GRACE_MS,
  RedisRoomStore,
} from '../../src/relay/rooms/redis/redis-room-store.js';
import { DEFAULT_ROOM_STORE_OPTIONS } from '../../src/relay/rooms/redis/store-options.js';
import type { Delivery, RoomLimits } from '../../src/relay/rooms/room-store.js';
import { uniqueRoomId } from '../support/room-fixture.js';
import {
  deleteKeys,
  describeWithRedis,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '../support/redis-server.js';

const LIMITS: RoomLimits = {
  maxCreators: 2,
  historyLimit: 3,
  maxEvents: 5,
  idleTtlMs: 60_000,
  maxAgeMs: 3_600_000,
};

/** Every effect a registered event may have, verified results included. */
const EFFECTS: { name: string; effect: FlowEffect }[] = [
  ...BUILT_IN_FLOW_EVENTS.map(({ name, effect }) => ({ name, effect })),
  { name: 'NO_EFFECT', effect: {} },
  {
    name: 'VERIFIED_SUCCESS',
    effect: { status: RoomStatus.PAID, verified: true },
  },
  {
    name: 'VERIFIED_ERROR',
    effect: { status: RoomStatus.FAILED, verified: true },
  },
];

const STATES: FlowState[] = Object.values(RoomStatus).flatMap((status) =>
  [false, true].flatMap((pendingPayment) =>
    [false, true].map((paidVerified) => ({
      status,
      pendingPayment,
      paidVerified,
    })),
  ),
);

function frameFor(event: string) {
  return { head: `{"event":"${event}","data":{"seq":`, tail: '}}' };
}

await describeWithRedis(RedisRoomStore.name, () => {
  const prefix = uniqueKeyPrefix('store');
  const keys = new RedisKeys(prefix);
  const deliveries: Delivery[] = [];
  let store: RedisRoomStore;
  let redis: Redis;

  function member(connectionId: string, role: 'CREATOR' | 'PAYER' = 'PAYER') {
    return {
      clientId: `client-${connectionId}`,
      role,
      connectionId,
      joinedAt: Date.now(),
      receivedSeq: 0,
    };
  }

  beforeAll(async () => {
    store = new RedisRoomStore(
      LIMITS,
      {
        ...DEFAULT_ROOM_STORE_OPTIONS,
        redisUrl: TEST_REDIS_URL,
        keyPrefix: prefix,
      },
      'store-test',
    );
    store.onDelivery((delivery) => deliveries.push(delivery));
    await store.onModuleInit();
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await store.onApplicationShutdown();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  describe('append', () => {
    it('applies every transition like applyFlowEffect', async () => {
      const roomId = uniqueRoomId('transitions');
      await store.join({ roomId, member: member('payer'), now: Date.now() });
      const [stateKey, , , eventsKey] = keys.room(roomId);
      let count = 0;

      for (const state of STATES) {
        for (const { name, effect } of EFFECTS) {
          count += 1;
          await redis.hset(stateKey, {
            status: state.status,
            pendingPayment: state.pendingPayment ? '1' : '0',
            paidVerified: state.paidVerified ? '1' : '0',
          });
          await redis.del(eventsKey);
          const expected = applyFlowEffect(state, name, effect);

          const outcome = await store.append({
            roomId,
            event: name,
            eventId: `event-${count}`,
            effect,
            frame: frameFor(name),
            now: Date.now(),
          });

          const label = `${name} on ${JSON.stringify(state)}`;
          if (!expected.ok) {
            expect({ label, outcome }).toEqual({
              label,
              outcome: {
                ok: false,
                code: 'INVALID_TRANSITION',
                message: expected.reason,
              },
            });
            continue;
          }
          const stored = await redis.hmget(
            stateKey,
            'status',
            'pendingPayment',
            'paidVerified',
          );
          expect({ label, stored }).toEqual({
            label,
            stored: [
              expected.state.status,
              expected.state.pendingPayment ? '1' : '0',
              expected.state.paidVerified ? '1' : '0',
            ],
          });
          expect(outcome).toMatchObject({ ok: true, duplicate: false });
        }
      }
      expect(count).toBe(STATES.length * EFFECTS.length);
    });

    it('returns the first seq for a duplicate', async () => {
      const roomId = uniqueRoomId('duplicate');
      await store.join({ roomId, member: member('payer'), now: Date.now() });
      const command = {
        roomId,
        connectionId: 'payer',
        event: 'ENTERED_SUMMARY',
        eventId: 'same',
        effect: { status: RoomStatus.IN_PROGRESS },
        frame: frameFor('ENTERED_SUMMARY'),
        now: Date.now(),
      };

      const first = await store.append(command);
      const second = await store.append(command);

      expect(first).toMatchObject({ ok: true, seq: 1, duplicate: false });
      expect(second).toMatchObject({ ok: true, seq: 1, duplicate: true });
    });

    it('rejects a connection that is not a member', async () => {
      const roomId = uniqueRoomId('stranger');
      await store.join({ roomId, member: member('payer'), now: Date.now() });

      const outcome = await store.append({
        roomId,
        connectionId: 'stranger',
        event: 'ENTERED_SUMMARY',
        eventId: 'e1',
        effect: {},
        frame: frameFor('ENTERED_SUMMARY'),
        now: Date.now(),
      });

      expect(outcome).toMatchObject({ ok: false, code: 'NOT_IN_ROOM' });
    });

    it('creates the room for a verified result', async () => {
      const roomId = uniqueRoomId('created');
      const now = Date.now();

      const outcome = await store.append({
        roomId,
        createRoom: true,
        event: 'PAYMENT_ERROR',
        eventId: 'verified-1',
        effect: { status: RoomStatus.FAILED, verified: true },
        frame: frameFor('PAYMENT_ERROR'),
        now,
      });

      expect(outcome).toEqual({
        ok: true,
        seq: 1,
        duplicate: false,
        recipients: 0,
        status: 'FAILED',
      });
      const room = await store.getRoom(roomId);
      expect(room).toMatchObject({
        status: 'FAILED',
        seq: 1,
        createdAt: now,
        members: [],
      });
      const [stateKey] = keys.room(roomId);
      expect(await redis.hget(stateKey, 'emptySince')).toBe(String(now));
      expect(await redis.zscore(keys.roomIndex, roomId)).toBe(String(now));
      expect(await redis.zscore(keys.roomDeadlines, roomId)).toBe(
        String(now + LIMITS.idleTtlMs),
      );
      const removed = await store.sweep(now + LIMITS.idleTtlMs);
      expect(removed.removed).toContain(roomId);
    });

    it('creates no room for a member event', async () => {
      const roomId = uniqueRoomId('not-created');

      const outcome = await store.append({
        roomId,
        connectionId: 'payer',
        createRoom: true,
        event: 'ENTERED_SUMMARY',
        eventId: 'e1',
        effect: {},
        frame: frameFor('ENTERED_SUMMARY'),
        now: Date.now(),
      });

      expect(outcome).toMatchObject({ ok: false, code: 'NOT_IN_ROOM' });
      expect(await redis.exists(...keys.room(roomId))).toBe(0);
    });

    it('stops at the event limit', async () => {
      const roomId = uniqueRoomId('limit');
      await store.join({ roomId, member: member('payer'), now: Date.now() });
      const send = (index: number) =>
        store.append({
          roomId,
          connectionId: 'payer',
          event: 'DATA_FILLED',
          eventId: `e${index}`,
          effect: {},
          frame: frameFor('DATA_FILLED'),
          now: Date.now(),
        });
      for (let index = 0; index < LIMITS.maxEvents; index += 1) {
        await send(index);
      }

      const outcome = await send(LIMITS.maxEvents);

      expect(outcome).toMatchObject({ ok: false, code: 'ROOM_FULL' });
    });

    it('keeps at most historyLimit events for missed', async () => {
      const roomId = uniqueRoomId('history');
      await store.join({ roomId, member: member('payer'), now: Date.now() });
      for (let index = 1; index <= 5; index += 1) {
        await store.append({
          roomId,
          connectionId: 'payer',
          event: 'DATA_FILLED',
          eventId: `e${index}`,
          effect: {},
          frame: frameFor('DATA_FILLED'),
          now: Date.now(),
        });
      }

      const joined = await store.join({
        roomId,
        member: member('creator', 'CREATOR'),
        lastSeq: 1,
        now: Date.now(),
      });

      expect(joined).toMatchObject({ ok: true, truncated: true });
      const missed = joined.ok ? joined.missed : [];
      expect(missed).toEqual(
        [3, 4, 5].map((seq) => `{"event":"DATA_FILLED","data":{"seq":${seq}}}`),
      );
      expect(await redis.llen(keys.room(roomId)[2])).toBe(3);
    });
  });

  describe('expiry', () => {
    it('sets key TTLs from the maximum age while members stay', async () => {
      const roomId = uniqueRoomId('ttl');
      await store.join({ roomId, member: member('payer'), now: Date.now() });

      const ttl = await redis.pttl(keys.room(roomId)[0]);

      const expected = LIMITS.maxAgeMs + LIMITS.idleTtlMs + KEY_TTL_GRACE_MS;
      expect(ttl).toBeLessThanOrEqual(expected);
      expect(ttl).toBeGreaterThan(expected - 5_000);
    });

    it('shortens key TTLs to the idle TTL once empty', async () => {
      const roomId = uniqueRoomId('idle');
      await store.join({ roomId, member: member('payer'), now: Date.now() });

      await store.leave(roomId, 'payer', Date.now());

      const expected = LIMITS.idleTtlMs + KEY_TTL_GRACE_MS;
      for (const key of [keys.room(roomId)[0]]) {
        const ttl = await redis.pttl(key);
        expect(ttl).toBeLessThanOrEqual(expected);
        expect(ttl).toBeGreaterThan(expected - 5_000);
      }
    });

    it('sweeps an idle room away with its keys', async () => {
      const roomId = uniqueRoomId('swept');
      const now = Date.now();
      await store.join({ roomId, member: member('payer'), now });
      await store.append({
        roomId,
        connectionId: 'payer',
        event: 'DATA_FILLED',
        eventId: 'e1',
        effect: {},
        frame: frameFor('DATA_FILLED'),
        now,
      });
      await store.leave(roomId, 'payer', now);

      const outcome = await store.sweep(now + LIMITS.idleTtlMs);

      expect(outcome.removed).toContain(roomId);
      expect(await redis.exists(...keys.room(roomId))).toBe(0);
      expect(await redis.zscore(keys.roomIndex, roomId)).toBeNull();
    });

    it('closes a room at its maximum age', async () => {
      const roomId = uniqueRoomId('old');
      const now = Date.now();
      await store.join({ roomId, member: member('payer'), now });

      const outcome = await store.sweep(now + LIMITS.maxAgeMs);

      expect(outcome.closed).toContainEqual({ roomId, reason: 'MAX_AGE' });
      const room = await store.getRoom(roomId);
      expect(room).toMatchObject({ closedReason: 'MAX_AGE', members: [] });
      expect(
        await redis.sismember(
          keys.instanceMembers('store-test'),
          `${roomId}\npayer`,
        ),
      ).toBe(0);
    });
  });

  describe('sweep', () => {
    it('closes an empty room past its expiresAt', async () => {
      const roomId = uniqueRoomId('empty-expired');
      const joinedAt = Date.now();
      const expiresAt = joinedAt + 10_000;
      await store.join({
        roomId,
        member: member('creator', 'CREATOR'),
        expiresAt,
        now: joinedAt,
      });
      const emptySince = joinedAt + 1_000;
      await store.leave(roomId, 'creator', emptySince);
      expect(await redis.zscore(keys.roomDeadlines, roomId)).toBe(
        String(expiresAt),
      );

      const closed = await store.sweep(expiresAt);

      expect(closed.closed).toContainEqual({ roomId, reason: 'EXPIRED' });
      const [stateKey] = keys.room(roomId);
      expect(await redis.hget(stateKey, 'emptySince')).toBe(String(emptySince));
      const late = await store.join({
        roomId,
        member: member('payer'),
        now: expiresAt + 1,
      });
      expect(late).toMatchObject({ ok: false, code: 'ROOM_CLOSED' });
      const removed = await store.sweep(emptySince + LIMITS.idleTtlMs);
      expect(removed.removed).toContain(roomId);
      expect(removed.closed).not.toContainEqual(
        expect.objectContaining({ roomId }),
      );
    });

    it('closes an empty room at its maximum age', async () => {
      const roomId = uniqueRoomId('empty-old');
      const createdAt = Date.now();
      const emptySince = createdAt + LIMITS.maxAgeMs - 1_000;
      await store.join({ roomId, member: member('payer'), now: createdAt });
      await store.leave(roomId, 'payer', emptySince);

      const outcome = await store.sweep(createdAt + LIMITS.maxAgeMs);

      expect(outcome.closed).toContainEqual({ roomId, reason: 'MAX_AGE' });
      const [stateKey] = keys.room(roomId);
      expect(await redis.hget(stateKey, 'emptySince')).toBe(String(emptySince));
    });

    it('keeps going after a room whose script fails', async () => {
      const now = Date.now();
      const [first, broken, last] = ['first', 'broken', 'last'].map((name) =>
        uniqueRoomId(`sweep-${name}`),
      );
      await store.join({ roomId: first, member: member('p1'), now });
      await store.join({ roomId: last, member: member('p2'), now });
      // A room whose creation time is not a number makes the script raise.
      await redis.hset(keys.room(broken)[0], {
        status: 'OPEN',
        seq: '0',
        createdAt: 'not-a-number',
      });
      await redis.zadd(keys.roomDeadlines, 1, first, 2, broken, 3, last);
      const logged = jest
        .spyOn(Logger.prototype, 'error')
        .mockImplementation(() => undefined);

      try {
        const outcome = await store.sweep(now + LIMITS.maxAgeMs);

        expect(outcome.closed).toContainEqual({
          roomId: first,
          reason: 'MAX_AGE',
        });
        expect(outcome.closed).toContainEqual({
          roomId: last,
          reason: 'MAX_AGE',
        });
        const messages = logged.mock.calls.map((call) => String(call[0]));
        expect(messages.some((message) => message.includes(broken))).toBe(true);
      } finally {
        logged.mockRestore();
        await redis.del(...keys.room(broken));
        await redis.zrem(keys.roomDeadlines, broken);
      }
    });
  });

  describe('join', () => {
    it('admits one payer and maxCreators creators', async () => {
      const roomId = uniqueRoomId('full');
      const now = Date.now();
      await store.join({ roomId, member: member('p1'), now });
      await store.join({ roomId, member: member('c1', 'CREATOR'), now });
      await store.join({ roomId, member: member('c2', 'CREATOR'), now });

      const payer = await store.join({ roomId, member: member('p2'), now });
      const creator = await store.join({
        roomId,
        member: member('c3', 'CREATOR'),
        now,
      });

      expect(payer).toMatchObject({ ok: false, code: 'ROOM_FULL' });
      expect(creator).toMatchObject({ ok: false, code: 'ROOM_FULL' });
    });

    it('rejects a takeover by another role', async () => {
      const roomId = uniqueRoomId('takeover');
      const now = Date.now();
      await store.join({
        roomId,
        member: { ...member('merchant', 'CREATOR'), clientId: 'device-1' },
        now,
      });

      const outcome = await store.join({
        roomId,
        member: { ...member('intruder'), clientId: 'device-1' },
        now,
      });

      expect(outcome).toEqual({
        ok: false,
        code: 'FORBIDDEN',
        message: `clientId "device-1" belongs to a CREATOR in room "${roomId}"`,
      });
      const room = await store.getRoom(roomId);
      expect(room?.members.map((m) => m.connectionId)).toEqual(['merchant']);
      expect(
        await redis.sismember(
          keys.instanceMembers('store-test'),
          `${roomId}\nintruder`,
        ),
      ).toBe(0);
    });

    it('replaces the member with the same clientId', async () => {
      const roomId = uniqueRoomId('replace');
      const now = Date.now();
      await store.join({ roomId, member: member('old'), now });

      const outcome = await store.join({
        roomId,
        member: { ...member('new'), clientId: 'client-old' },
        now,
      });

      expect(outcome).toMatchObject({
        ok: true,
        replaced: { connectionId: 'old' },
      });
      const room = await store.getRoom(roomId);
      expect(room?.members.map((m) => m.connectionId)).toEqual(['new']);
    });
  });
});
