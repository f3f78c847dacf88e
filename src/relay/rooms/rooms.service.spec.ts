import { jest } from '@jest/globals';
import { Role } from '../../protocol/index.js';
import { PaymentFlowService } from '../flow/payment-flow.service.js';
import { RelayEvents } from '../relay-events.js';
import { DEFAULT_RELAY_OPTIONS } from '../relay-options.js';
import { MemoryRoomStore } from './memory-room-store.js';
import type { RelayConnection } from './relay-connection.js';
import { RoomsService } from './rooms.service.js';

const connection = (id: string, sent: string[] = []): RelayConnection => ({
  id,
  remoteAddress: '127.0.0.1',
  rooms: new Map(),
  messageReceivedAt: 0,
  send: (frame) => sent.push(frame),
});

describe(RoomsService.name, () => {
  const options = {
    ...DEFAULT_RELAY_OPTIONS,
    roomSweepIntervalMs: 1_000,
    roomIdleTtlMs: 5_000,
  };
  let store: MemoryRoomStore;
  let sut: RoomsService;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    store = new MemoryRoomStore({
      maxCreators: options.roomMaxCreators,
      historyLimit: options.roomHistoryLimit,
      maxEvents: options.roomMaxEvents,
      idleTtlMs: options.roomIdleTtlMs,
      maxAgeMs: options.roomMaxAgeMs,
    });
    sut = new RoomsService(
      store,
      new PaymentFlowService(),
      new RelayEvents(),
      options,
    );
    sut.onModuleInit();
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  it('undoes a join that finishes after the connection closed', async () => {
    const closing = connection('c1');
    sut.connect(closing);

    const join = sut.join(closing, { roomId: 'r', role: Role.PAYER });
    await sut.disconnect(closing);

    await expect(join).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    expect((await store.getRoom('r'))?.members).toEqual([]);
    expect(closing.rooms.size).toBe(0);
  });

  it('sends ROOM_CLOSED from the periodic sweep', async () => {
    const sent: string[] = [];
    const creator = connection('c1', sent);
    sut.connect(creator);
    await sut.join(creator, {
      roomId: 'r',
      role: Role.CREATOR,
      expiresAt: new Date(2_500).toISOString(),
    });

    await jest.advanceTimersByTimeAsync(3_000);

    expect(sent.at(-1)).toBe(
      '{"event":"ROOM_CLOSED","data":{"roomId":"r","reason":"EXPIRED"}}',
    );
    expect(creator.rooms.size).toBe(0);
  });

  it('removes an empty room once the idle TTL passed', async () => {
    const payer = connection('p1');
    sut.connect(payer);
    await sut.join(payer, { roomId: 'r', role: Role.PAYER });
    await sut.disconnect(payer);

    await jest.advanceTimersByTimeAsync(4_000);
    expect(await store.getRoom('r')).toBeDefined();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(await store.getRoom('r')).toBeUndefined();
  });
});
