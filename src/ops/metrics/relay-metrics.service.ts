import {
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import { RoomStatus } from '../../protocol/index.js';
import { PaymentFlowService } from '../../relay/flow/payment-flow.service.js';
import { RelayEvents, type RelayEventMap } from '../../relay/relay-events.js';
import { RoomsService } from '../../relay/rooms/rooms.service.js';
import { RoomStore } from '../../relay/rooms/room-store.js';
import { countRoomsByStatus } from './room-status-count.js';

/** Upper bounds of the relay latency buckets, in seconds: 50 µs to 1 s. */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 1,
];

type Listener<K extends keyof RelayEventMap> = (
  ...args: RelayEventMap[K]
) => void;

/**
 * Prometheus metrics of the relay, in a registry of its own so that several
 * applications in one process (as in tests) do not collide. Labels take only
 * values from closed sets: roles, statuses, error codes, close reasons and
 * registered flow event names. Room, client and connection ids never become
 * labels.
 */
@Injectable()
export class RelayMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();

  private readonly joins = new Counter({
    name: 'relay_room_joins_total',
    help: 'Accepted JOIN_ROOM messages, by role',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });

  private readonly leaves = new Counter({
    name: 'relay_room_leaves_total',
    help: 'Members that left a room (LEAVE_ROOM or disconnect), by role',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });

  private readonly roomsCreated = new Counter({
    name: 'relay_rooms_created_total',
    help: 'Rooms created by a first join on this instance',
    registers: [this.registry],
  });

  private readonly roomsClosed = new Counter({
    name: 'relay_rooms_closed_total',
    help: 'Rooms the sweep closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly relayed = new Counter({
    name: 'relay_events_relayed_total',
    help: 'Flow events accepted and relayed, by event name; duplicate="true" counts retries of an already accepted eventId',
    labelNames: ['event', 'duplicate'] as const,
    registers: [this.registry],
  });

  private readonly rejected = new Counter({
    name: 'relay_messages_rejected_total',
    help: 'Messages rejected with ERROR, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  private readonly latency = new Histogram({
    name: 'relay_latency_seconds',
    help: 'Time from the arrival of a flow event frame to its publication to the other members, in seconds',
    labelNames: ['event'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly heartbeatTerminations = new Counter({
    name: 'relay_heartbeat_terminations_total',
    help: 'Connections terminated because they missed a heartbeat',
    registers: [this.registry],
  });

  private readonly paymentsCompleted = new Counter({
    name: 'relay_payments_completed_total',
    help: 'Result events accepted that left the room PAID; a device result and its verified confirmation by the payment backend count once each',
    registers: [this.registry],
  });

  private readonly paymentsFailed = new Counter({
    name: 'relay_payments_failed_total',
    help: 'Result events accepted that left the room FAILED; retries of an eventId do not count',
    registers: [this.registry],
  });

  private readonly listeners: {
    [K in keyof RelayEventMap]?: Listener<K>;
  } = {
    joined: ({ role, created }) => {
      this.joins.inc({ role });
      if (created) {
        this.roomsCreated.inc();
      }
    },
    left: ({ role }) => this.leaves.inc({ role }),
    roomClosed: ({ reason }) => this.roomsClosed.inc({ reason }),
    rejected: ({ code }) => this.rejected.inc({ code }),
    heartbeatTerminated: () => this.heartbeatTerminations.inc(),
    relayed: (relayed) => this.recordRelayed(relayed),
  };

  constructor(
    private readonly events: RelayEvents,
    private readonly rooms: RoomsService,
    private readonly store: RoomStore,
    private readonly flow: PaymentFlowService,
  ) {
    collectDefaultMetrics({ register: this.registry });

    const connections = this.rooms;
    new Gauge({
      name: 'relay_connections_open',
      help: 'WebSocket connections open on this instance',
      registers: [this.registry],
      collect() {
        this.set(connections.connectionCount);
      },
    });

    const roomStore = this.store;
    new Gauge({
      name: 'relay_rooms',
      help: 'Rooms in the room store, by status; with a shared store every instance reports the same rooms',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await countRoomsByStatus(roomStore);
        for (const status of Object.values(RoomStatus)) {
          this.set({ status }, counts[status] ?? 0);
        }
      },
    });
  }

  onModuleInit(): void {
    for (const [name, listener] of Object.entries(this.listeners)) {
      this.events.on(name as keyof RelayEventMap, listener);
    }
  }

  onModuleDestroy(): void {
    for (const [name, listener] of Object.entries(this.listeners)) {
      this.events.off(name as keyof RelayEventMap, listener);
    }
  }

  /** Renders every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  private recordRelayed({
    event,
    duplicate,
    receivedAt,
  }: RelayEventMap['relayed'][0]): void {
    this.relayed.inc({ event, duplicate: String(duplicate) });
    if (duplicate) {
      return;
    }
    if (receivedAt > 0) {
      this.latency.observe({ event }, (performance.now() - receivedAt) / 1000);
    }

    const definition = this.flow.definitionOf(event);
    if (!this.flow.isResult(definition)) {
      return;
    }
    if (definition.effect.status === RoomStatus.PAID) {
      this.paymentsCompleted.inc();
    } else {
      this.paymentsFailed.inc();
    }
  }
}
