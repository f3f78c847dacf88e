import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import type { Role, RoomStatus } from '../../protocol/index.js';
import { PaymentFlowService } from '../../relay/flow/payment-flow.service.js';
import { RelayEvents, type RelayEventMap } from '../../relay/relay-events.js';
import { RoomsService } from '../../relay/rooms/rooms.service.js';
import { ReadinessService } from '../health/readiness.service.js';
import { OPS_OPTIONS, type OpsOptions } from '../ops-options.js';

/** Rooms described in full in the snapshot a new stream starts with. */
export const ADMIN_SNAPSHOT_ROOMS = 100;
/** Changed rooms sent per push; the rest wait for the next push. */
export const ADMIN_ROOMS_PER_PUSH = 200;

/** Totals since this instance started, plus the current counts. */
export interface AdminTotals {
  connections: number;
  rooms: number;
  joins: number;
  relayed: number;
  rejected: number;
  paymentsCompleted: number;
  paymentsFailed: number;
  heartbeatTerminations: number;
}

/** One room as the admin stream shows it; `removed` rooms carry only their id. */
export interface AdminRoomView {
  roomId: string;
  removed?: true;
  status?: RoomStatus;
  seq?: number;
  createdAt?: string;
  closedReason?: string;
  members?: { clientId: string; role: Role }[];
}

/** Server-sent event as Nest's `@Sse()` writes it. */
export interface AdminStreamEvent {
  type: 'snapshot' | 'rooms' | 'totals';
  data: {
    totals: AdminTotals;
    rooms?: AdminRoomView[];
  };
}

type Counters = Omit<AdminTotals, 'connections' | 'rooms'>;

/**
 * Live statistics for the admin stream. Room changes are collected from
 * `RelayEvents` and pushed in batches every `adminLiveIntervalMs`, so a busy
 * room costs one store read per push, not one per event. Nothing is read
 * while no stream is open.
 */
@Injectable()
export class AdminLiveService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AdminLiveService.name);
  private readonly subscribers = new Set<Subscriber<AdminStreamEvent>>();
  private readonly changedRooms = new Set<string>();
  private readonly counters: Counters = {
    joins: 0,
    relayed: 0,
    rejected: 0,
    paymentsCompleted: 0,
    paymentsFailed: 0,
    heartbeatTerminations: 0,
  };
  private countersChanged = false;
  private pushTimer?: NodeJS.Timeout;
  private pushing = false;
  /** Pushes that failed in a row, so that an outage logs one error, not one per interval. */
  private failedPushes = 0;

  private readonly listeners: {
    [K in keyof RelayEventMap]?: (...args: RelayEventMap[K]) => void;
  } = {
    connectionOpened: () => this.markTotals(),
    connectionClosed: () => this.markTotals(),
    joined: ({ roomId }) => this.markRoom(roomId, 'joins'),
    left: ({ roomId }) => this.markRoom(roomId),
    roomClosed: ({ roomId }) => this.markRoom(roomId),
    roomRemoved: ({ roomId }) => this.markRoom(roomId),
    rejected: () => this.markTotals('rejected'),
    heartbeatTerminated: () => this.markTotals('heartbeatTerminations'),
    relayed: ({ roomId, event, duplicate }) => {
      if (duplicate) {
        return;
      }
      this.markRoom(roomId, 'relayed');
      const definition = this.flow.definitionOf(event);
      if (this.flow.isResult(definition)) {
        this.markTotals(
          definition.effect.status === 'PAID'
            ? 'paymentsCompleted'
            : 'paymentsFailed',
        );
      }
    },
  };

  constructor(
    private readonly events: RelayEvents,
    private readonly rooms: RoomsService,
    private readonly flow: PaymentFlowService,
    private readonly readiness: ReadinessService,
    @Inject(OPS_OPTIONS) private readonly options: OpsOptions,
  ) {}

  onModuleInit(): void {
    for (const [name, listener] of Object.entries(this.listeners)) {
      this.events.on(name as keyof RelayEventMap, listener);
    }
    // Open streams would keep the HTTP server from closing.
    this.readiness.onShutdown(() => this.completeAll());
  }

  onModuleDestroy(): void {
    for (const [name, listener] of Object.entries(this.listeners)) {
      this.events.off(name as keyof RelayEventMap, listener);
    }
    this.completeAll();
  }

  get streamCount(): number {
    return this.subscribers.size;
  }

  /** Returns a stream that starts with a snapshot and then pushes changes as they happen. */
  stream(): Observable<AdminStreamEvent> {
    return new Observable<AdminStreamEvent>((subscriber) => {
      if (this.readiness.isShuttingDown) {
        subscriber.complete();
        return undefined;
      }
      this.subscribers.add(subscriber);
      this.logger.log(`Admin stream opened (${this.subscribers.size} open)`);
      this.snapshot().then(
        (event) => subscriber.next(event),
        (error: unknown) => {
          this.logger.error('Failed to build the admin snapshot', error);
          subscriber.error(error);
        },
      );
      return () => {
        this.subscribers.delete(subscriber);
        this.logger.log(`Admin stream closed (${this.subscribers.size} open)`);
      };
    });
  }

  /** Totals and the oldest `ADMIN_SNAPSHOT_ROOMS` rooms. */
  async snapshot(): Promise<AdminStreamEvent> {
    const page = await this.rooms.listRooms(0, ADMIN_SNAPSHOT_ROOMS);
    const rooms = await this.describeRooms(
      page.rooms.map((room) => room.roomId),
    );
    return {
      type: 'snapshot',
      data: { totals: this.totalsWith(page.totalRooms), rooms },
    };
  }

  private markRoom(roomId: string, counter?: keyof Counters): void {
    if (counter) {
      this.counters[counter] += 1;
    }
    this.countersChanged = true;
    if (this.subscribers.size > 0) {
      this.changedRooms.add(roomId);
    }
    this.schedulePush();
  }

  private markTotals(counter?: keyof Counters): void {
    if (counter) {
      this.counters[counter] += 1;
    }
    this.countersChanged = true;
    this.schedulePush();
  }

  private schedulePush(): void {
    if (this.subscribers.size === 0 || this.pushTimer) {
      return;
    }
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.push().then(
        () => this.reportRecovery(),
        (error: unknown) => this.reportFailure(error),
      );
    }, this.options.adminLiveIntervalMs);
    this.pushTimer.unref();
  }

  private async push(): Promise<void> {
    if (this.subscribers.size === 0) {
      this.changedRooms.clear();
      return;
    }
    if (this.pushing) {
      // The running push schedules the next one when it ends, and that one
      // takes the rooms changed meanwhile.
      return;
    }
    this.pushing = true;
    const roomIds = [...this.changedRooms].slice(0, ADMIN_ROOMS_PER_PUSH);
    try {
      for (const roomId of roomIds) {
        this.changedRooms.delete(roomId);
      }
      this.countersChanged = false;

      const page = await this.rooms.listRooms(0, 0);
      const totals = this.totalsWith(page.totalRooms);
      const event: AdminStreamEvent =
        roomIds.length > 0
          ? {
              type: 'rooms',
              data: { totals, rooms: await this.describeRooms(roomIds) },
            }
          : { type: 'totals', data: { totals } };
      for (const subscriber of this.subscribers) {
        subscriber.next(event);
      }
    } catch (error) {
      // Keep the rooms for the next push, for example once Redis answers again.
      for (const roomId of roomIds) {
        this.changedRooms.add(roomId);
      }
      this.countersChanged = true;
      throw error;
    } finally {
      this.pushing = false;
      if (this.changedRooms.size > 0 || this.countersChanged) {
        this.schedulePush();
      }
    }
  }

  /** Logs the first failed push of a series; the next pushes retry every interval. */
  private reportFailure(error: unknown): void {
    this.failedPushes += 1;
    if (this.failedPushes === 1) {
      this.logger.error(
        'Failed to push admin statistics; retrying every ADMIN_LIVE_INTERVAL_MS',
        error,
      );
    }
  }

  private reportRecovery(): void {
    if (this.failedPushes > 0) {
      this.logger.log(
        `Admin statistics pushed again after ${this.failedPushes} failed pushes`,
      );
      this.failedPushes = 0;
    }
  }

  private async describeRooms(roomIds: string[]): Promise<AdminRoomView[]> {
    return Promise.all(
      roomIds.map(async (roomId): Promise<AdminRoomView> => {
        const room = await this.rooms.getRoom(roomId);
        if (!room) {
          return { roomId, removed: true };
        }
        return {
          roomId,
          status: room.status,
          seq: room.seq,
          createdAt: new Date(room.createdAt).toISOString(),
          ...(room.closedReason && { closedReason: room.closedReason }),
          members: room.members.map(({ clientId, role }) => ({
            clientId,
            role,
          })),
        };
      }),
    );
  }

  private totalsWith(rooms: number): AdminTotals {
    return {
      connections: this.rooms.connectionCount,
      rooms,
      ...this.counters,
    };
  }

  private completeAll(): void {
    clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
    for (const subscriber of [...this.subscribers]) {
      subscriber.complete();
    }
    this.subscribers.clear();
  }
}
