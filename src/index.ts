/**
 * Public API for Nest applications that embed the relay: import
 * `RelayModule`, serve it with `RelayWsAdapter`, and register flow events
 * of their own with `RelayModule.forFeature`.
 */
export * from './protocol/index.js';
export { RelayModule, RelayEventsModule } from './relay/relay.module.js';
export type { RelayModuleAsyncOptions } from './relay/relay.module.js';
export { RelayWsAdapter } from './relay/gateway/relay-ws.adapter.js';
export {
  DEFAULT_RELAY_OPTIONS,
  RELAY_OPTIONS,
  type RelayOptions,
} from './relay/relay-options.js';
export { RelayEvents, type RelayEventMap } from './relay/relay-events.js';
export { RelayException } from './relay/relay.exception.js';
export { PaymentFlowService } from './relay/flow/payment-flow.service.js';
export type { FlowEventDefinition } from './relay/flow/flow-event-definition.js';
export type { FlowEffect } from './relay/flow/flow-effect.js';
export { RoomsService } from './relay/rooms/rooms.service.js';
export { RoomStore } from './relay/rooms/room-store.js';
export { MemoryRoomStore } from './relay/rooms/memory-room-store.js';
export { RoomMessageDto } from './relay/dto/room-id.dto.js';
export { JoinRoomDto } from './relay/dto/join-room.dto.js';
export { LeaveRoomDto } from './relay/dto/leave-room.dto.js';
export * from './relay/dto/flow-events.dto.js';
