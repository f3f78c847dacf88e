import { ErrorCode, Role, RoomStatus } from '../../protocol/index.js';
import { MemoryRoomStore } from './memory-room-store.js';
import type { Delivery, MemberRecord } from './room-store.js';

const LIMITS = {
  maxCreators: 2,
  historyLimit: 3,
  maxEvents: 10,
  idleTtlMs: 1_000,
  maxAgeMs: 60_000,
};

const member = (
  clientId: string,
  role: Role,
  connectionId = `conn-${clientId}`,
): MemberRecord => ({
  clientId,
  role,
  connectionId,
  joinedAt: 0,
  receivedSeq: 0,
});

describe(MemoryRoomStore.name, () => {
  let store: MemoryRoomStore;
  let deliveries: Delivery[];

  beforeEach(() => {
    store = new MemoryRoomStore(LIMITS);
    deliveries = [];
    store.onDelivery((delivery) => deliveries.push(delivery));
  });

  const append = (eventId: string, connectionId = 'conn-payer') =>
    store.append({
      roomId: 'r',
      connectionId,
      event: 'CLICKED_PAY',
      eventId,
      effect: { status: RoomStatus.IN_PROGRESS, pendingPayment: true },
      frame: { head: '{"seq":', tail: '}' },
      now: 10,
    });

  describe('#join', () => {
    it('creates the room on the first join', async () => {
      const outcome = await store.join({
        roomId: 'r',
        member: member('payer', Role.PAYER),
        now: 5,
      });
      expect(outcome).toMatchObject({
        ok: true,
        created: true,
        room: { roomId: 'r', seq: 0, status: RoomStatus.OPEN, createdAt: 5 },
      });
    });

    it('does not keep a room whose first join was rejected', async () => {
      await store.join({
        roomId: 'r',
        member: member('a', Role.PAYER),
        now: 0,
      });
      await store.join({
        roomId: 'r',
        member: member('b', Role.CREATOR),
        now: 0,
      });
      await store.join({
        roomId: 'r',
        member: member('c', Role.CREATOR),
        now: 0,
      });
      const rejected = await store.join({
        roomId: 'r',
        member: member('d', Role.CREATOR),
        now: 0,
      });
      expect(rejected).toMatchObject({ ok: false, code: ErrorCode.ROOM_FULL });
      expect((await store.listRooms(0, 10)).total).toBe(1);
    });

    it('replaces the member with the same clientId', async () => {
      await store.join({
        roomId: 'r',
        member: member('p', Role.PAYER, 'old'),
        now: 0,
      });
      const outcome = await store.join({
        roomId: 'r',
        member: member('p', Role.PAYER, 'new'),
        now: 1,
      });
      expect(outcome).toMatchObject({
        ok: true,
        replaced: { connectionId: 'old' },
      });
      const room = await store.getRoom('r');
      expect(room?.members.map((m) => m.connectionId)).toEqual(['new']);
    });
  });

  describe('#append', () => {
    beforeEach(async () => {
      await store.join({
        roomId: 'r',
        member: member('payer', Role.PAYER),
        now: 0,
      });
      await store.join({
        roomId: 'r',
        member: member('creator', Role.CREATOR),
        now: 0,
      });
    });

    it('assigns seq and delivers to everyone but the sender', async () => {
      const outcome = await append('e1');
      expect(outcome).toMatchObject({ ok: true, seq: 1, recipients: 1 });
      expect(deliveries).toEqual([
        { roomId: 'r', frame: '{"seq":1}', exceptConnectionId: 'conn-payer' },
      ]);
    });

    it('returns the original seq for a duplicate without delivering', async () => {
      await append('e1');
      const again = await append('e1');
      expect(again).toMatchObject({ ok: true, seq: 1, duplicate: true });
      expect(again).toMatchObject({ recipients: 0 });
      expect(deliveries).toHaveLength(1);
    });

    it('keeps only the last historyLimit events', async () => {
      for (const id of ['a', 'b', 'c', 'd']) {
        await append(id);
      }
      const outcome = await store.join({
        roomId: 'r',
        member: member('late', Role.CREATOR),
        lastSeq: 0,
        now: 0,
      });
      expect(outcome).toMatchObject({
        ok: true,
        missed: ['{"seq":2}', '{"seq":3}', '{"seq":4}'],
        truncated: true,
      });
    });

    it('rejects a sender that is not a member', async () => {
      const outcome = await append('x', 'conn-stranger');
      expect(outcome).toMatchObject({ ok: false, code: ErrorCode.NOT_IN_ROOM });
    });

    it('delivers a server event to every member', async () => {
      const outcome = await store.append({
        roomId: 'r',
        event: 'PAYMENT_SUCCESS',
        eventId: 'verified-1',
        effect: { status: RoomStatus.PAID, verified: true },
        frame: { head: '{"seq":', tail: '}' },
        now: 10,
      });
      expect(outcome).toMatchObject({
        ok: true,
        recipients: 2,
        status: RoomStatus.PAID,
      });
      expect(deliveries[0].exceptConnectionId).toBeUndefined();
    });
  });

  describe('#confirmReceived', () => {
    it('raises the confirmed seq, capped at the room seq', async () => {
      await store.join({
        roomId: 'r',
        member: member('payer', Role.PAYER),
        now: 0,
      });
      await store.join({
        roomId: 'r',
        member: member('creator', Role.CREATOR),
        now: 0,
      });
      await append('e1');

      const receipt = await store.confirmReceived('r', 'conn-creator', 5);
      expect(receipt).toMatchObject({ receivedSeq: 1, advanced: true });
      const again = await store.confirmReceived('r', 'conn-creator', 1);
      expect(again).toMatchObject({ receivedSeq: 1, advanced: false });
    });
  });

  describe('#sweep', () => {
    it('removes a room idle for idleTtlMs', async () => {
      await store.join({
        roomId: 'r',
        member: member('p', Role.PAYER),
        now: 0,
      });
      await store.leave('r', 'conn-p', 100);

      expect((await store.sweep(1_099)).removed).toEqual([]);
      expect((await store.sweep(1_100)).removed).toEqual(['r']);
      expect(await store.getRoom('r')).toBeUndefined();
    });

    it('closes an expired room and empties it', async () => {
      await store.join({
        roomId: 'r',
        member: member('c', Role.CREATOR),
        expiresAt: 500,
        now: 0,
      });
      expect((await store.sweep(499)).closed).toEqual([]);
      expect((await store.sweep(500)).closed).toEqual([
        { roomId: 'r', reason: 'EXPIRED' },
      ]);
      expect((await store.getRoom('r'))?.members).toEqual([]);
      const rejoin = await store.join({
        roomId: 'r',
        member: member('c', Role.CREATOR),
        now: 600,
      });
      expect(rejoin).toMatchObject({ ok: false, code: ErrorCode.ROOM_CLOSED });
    });

    it('closes a room at maxAgeMs', async () => {
      await store.join({
        roomId: 'r',
        member: member('c', Role.CREATOR),
        now: 0,
      });
      expect((await store.sweep(60_000)).closed).toEqual([
        { roomId: 'r', reason: 'MAX_AGE' },
      ]);
    });
  });
});
