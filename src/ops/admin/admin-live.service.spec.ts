import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RoomStatus } from '../../protocol/index.js';
import type { PaymentFlowService } from '../../relay/flow/payment-flow.service.js';
import { RelayEvents } from '../../relay/relay-events.js';
import type { RoomsService } from '../../relay/rooms/rooms.service.js';
import type { ReadinessService } from '../health/readiness.service.js';
import {
  AdminLiveService,
  type AdminRoomView,
  type AdminStreamEvent,
} from './admin-live.service.js';

const INTERVAL_MS = 100;

/** A rooms service whose room reads wait until the test releases them. */
class SlowRooms {
  readonly connectionCount = 0;
  private readonly held: (() => void)[] = [];
  failNext = false;

  listRooms() {
    return Promise.resolve({ rooms: [], totalRooms: 0 });
  }

  getRoom(roomId: string) {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('store unavailable'));
    }
    return new Promise((resolve) => {
      this.held.push(() =>
        resolve({
          roomId,
          status: RoomStatus.OPEN,
          seq: 0,
          createdAt: 0,
          members: [],
        }),
      );
    });
  }

  release(): void {
    for (const resolve of this.held.splice(0)) {
      resolve();
    }
  }
}

function createService(rooms: SlowRooms): {
  service: AdminLiveService;
  events: RelayEvents;
} {
  const events = new RelayEvents();
  const flow = {
    definitionOf: () => ({ effect: {} }),
    isResult: () => false,
  } as unknown as PaymentFlowService;
  const readiness = {
    isShuttingDown: false,
    onShutdown: () => () => undefined,
  } as unknown as ReadinessService;
  const service = new AdminLiveService(
    events,
    rooms as unknown as RoomsService,
    flow,
    readiness,
    {
      shutdownDrainDelayMs: 0,
      readinessCheckTimeoutMs: 1_000,
      adminLiveIntervalMs: INTERVAL_MS,
    },
  );
  service.onModuleInit();
  return { service, events };
}

/** Room ids of every `rooms` push, in order. */
function pushedRooms(pushes: AdminStreamEvent[]): string[] {
  return pushes
    .filter((event) => event.type === 'rooms')
    .flatMap((event) =>
      (event.data.rooms ?? []).map((room: AdminRoomView) => room.roomId),
    );
}

/** Runs the due timers and the promise callbacks that follow them. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

describe(AdminLiveService.name, () => {
  let errorLog: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    errorLog = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('keeps rooms changed during a slow push', async () => {
    const rooms = new SlowRooms();
    const { service, events } = createService(rooms);
    const pushes: AdminStreamEvent[] = [];
    const subscription = service.stream().subscribe((event) => {
      if (event.type !== 'snapshot') {
        pushes.push(event);
      }
    });
    await advance(0);

    events.emit('left', { roomId: 'room-a', role: 'PAYER' });
    await advance(INTERVAL_MS);
    events.emit('left', { roomId: 'room-b', role: 'PAYER' });
    // This timer fires while the push of room-a still waits on the store.
    await advance(INTERVAL_MS);
    rooms.release();
    await advance(0);
    await advance(INTERVAL_MS);
    rooms.release();
    await advance(0);

    expect(pushedRooms(pushes)).toEqual(['room-a', 'room-b']);
    subscription.unsubscribe();
    service.onModuleDestroy();
  });

  it('retries the rooms of a failed push', async () => {
    const rooms = new SlowRooms();
    const { service, events } = createService(rooms);
    const pushes: AdminStreamEvent[] = [];
    const subscription = service.stream().subscribe((event) => {
      if (event.type !== 'snapshot') {
        pushes.push(event);
      }
    });
    await advance(0);

    rooms.failNext = true;
    events.emit('left', { roomId: 'room-c', role: 'PAYER' });
    await advance(INTERVAL_MS);
    expect(pushedRooms(pushes)).toEqual([]);
    expect(errorLog).toHaveBeenCalledTimes(1);

    await advance(INTERVAL_MS);
    rooms.release();
    await advance(0);
    expect(pushedRooms(pushes)).toEqual(['room-c']);
    subscription.unsubscribe();
    service.onModuleDestroy();
  });
});
