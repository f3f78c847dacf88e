import {
  Global,
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  SECURITY_CONTROLLERS,
  SECURITY_EXPORTS,
  SECURITY_PROVIDERS,
} from '../security/security.providers.js';
import type { FlowEventDefinition } from './flow/flow-event-definition.js';
import { PaymentFlowService } from './flow/payment-flow.service.js';
import { ConnectionRegistry } from './gateway/connection-registry.js';
import { FlowEventValidationPipe } from './gateway/flow-event-validation.pipe.js';
import { PaymentGateway } from './gateway/payment.gateway.js';
import { RelayExceptionFilter } from './gateway/relay-exception.filter.js';
import { RelayEvents } from './relay-events.js';
import { MemoryRoomStore } from './rooms/memory-room-store.js';
import { RedisRoomStore } from './rooms/redis/redis-room-store.js';
import { RoomStore } from './rooms/room-store.js';
import { RoomsService } from './rooms/rooms.service.js';
import {
  DEFAULT_RELAY_OPTIONS,
  RELAY_OPTIONS,
  type RelayOptions,
} from './relay-options.js';
import { StatsController } from './stats/stats.controller.js';

export interface RelayModuleAsyncOptions extends Pick<
  ModuleMetadata,
  'imports'
> {
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (
    ...args: never[]
  ) => Partial<RelayOptions> | Promise<Partial<RelayOptions>>;
}

const roomStoreProvider: Provider = {
  provide: RoomStore,
  inject: [RELAY_OPTIONS, ConnectionRegistry],
  useFactory: (options: RelayOptions, registry: ConnectionRegistry) => {
    const limits = {
      maxCreators: options.roomMaxCreators,
      historyLimit: options.roomHistoryLimit,
      maxEvents: options.roomMaxEvents,
      idleTtlMs: options.roomIdleTtlMs,
      maxAgeMs: options.roomMaxAgeMs,
    };
    const instanceId =
      options.store.instanceId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    return options.store.kind === 'redis'
      ? new RedisRoomStore(
          limits,
          options.store,
          instanceId,
          (connectionId, code, reason) =>
            registry.close(connectionId, code, reason),
        )
      : new MemoryRoomStore(limits, instanceId);
  },
};

const RELAY_PROVIDERS: Provider[] = [
  roomStoreProvider,
  PaymentFlowService,
  RoomsService,
  RelayEvents,
  ConnectionRegistry,
  FlowEventValidationPipe,
  RelayExceptionFilter,
  PaymentGateway,
  ...SECURITY_PROVIDERS,
];

const RELAY_EXPORTS = [
  RELAY_OPTIONS,
  RelayEvents,
  RoomStore,
  PaymentFlowService,
  RoomsService,
  ConnectionRegistry,
  ...SECURITY_EXPORTS,
];

/**
 * The payment relay: the WebSocket gateway, rooms, the flow rules and the
 * statistics endpoints. Import it once with `forRoot` or `forRootAsync`, and
 * serve it with `RelayWsAdapter`:
 *
 *     app.useWebSocketAdapter(new RelayWsAdapter(app));
 */
@Global()
@Module({})
export class RelayModule {
  static forRoot(options: Partial<RelayOptions> = {}): DynamicModule {
    return {
      module: RelayModule,
      controllers: [StatsController, ...SECURITY_CONTROLLERS],
      providers: [
        {
          provide: RELAY_OPTIONS,
          useValue: { ...DEFAULT_RELAY_OPTIONS, ...options },
        },
        ...RELAY_PROVIDERS,
      ],
      exports: RELAY_EXPORTS,
    };
  }

  static forRootAsync(options: RelayModuleAsyncOptions): DynamicModule {
    return {
      module: RelayModule,
      imports: options.imports ?? [],
      controllers: [StatsController, ...SECURITY_CONTROLLERS],
      providers: [
        {
          provide: RELAY_OPTIONS,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => ({
            ...DEFAULT_RELAY_OPTIONS,
            ...(await options.useFactory(...args)),
          }),
        },
        ...RELAY_PROVIDERS,
      ],
      exports: RELAY_EXPORTS,
    };
  }

  /**
   * Registers an application's own flow events. Each needs a DTO that
   * extends `FlowEventDto`, the roles that may send it and its effect on the
   * room's status; the gateway and the services need no change.
   */
  static forFeature(events: readonly FlowEventDefinition[]): DynamicModule {
    return {
      module: RelayEventsModule,
      providers: [
        {
          provide: Symbol(
            `RELAY_EVENTS:${events.map((e) => e.name).join(',')}`,
          ),
          inject: [PaymentFlowService],
          useFactory: (flow: PaymentFlowService) => {
            for (const event of events) {
              flow.register(event);
            }
            return events;
          },
        },
      ],
    };
  }
}

/** Host of the providers that `RelayModule.forFeature` creates. */
@Module({})
export class RelayEventsModule {}
