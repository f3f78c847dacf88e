import { Injectable, Logger, type Type } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import {
  ClientEvent,
  ErrorCode,
  RoomStatus,
  ServerEvent,
  type Role,
} from '../../protocol/index.js';
import { FlowEventDto } from '../dto/flow-events.dto.js';
import { RelayException } from '../relay.exception.js';
import { BUILT_IN_FLOW_EVENTS } from './built-in-events.js';
import type { FlowEventDefinition } from './flow-event-definition.js';

const EVENT_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Fields the server writes into every relayed event, so no DTO may declare them. */
const RESERVED_FIELDS = new Set(['seq', 'at', 'from', 'verified', 'status']);

/** Property names that carry class-validator rules in the DTO and its bases. */
function dtoPropertyNames(dto: Type<FlowEventDto>): string[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', true, false)
    .map((metadata) => metadata.propertyName);
}

/** Names that a registered flow event may not take. */
const RESERVED_NAMES = new Set<string>([
  ClientEvent.JOIN_ROOM,
  ClientEvent.LEAVE_ROOM,
  ClientEvent.RECEIVED,
  ClientEvent.PING,
  ...Object.values(ServerEvent),
]);

/**
 * The catalogue of flow events: what each one means, who may send it and
 * what it does to the room's status. Built-in events are registered at
 * construction; applications add theirs with `RelayModule.forFeature`.
 */
@Injectable()
export class PaymentFlowService {
  private readonly logger = new Logger(PaymentFlowService.name);
  private readonly events = new Map<string, FlowEventDefinition>();

  constructor() {
    for (const definition of BUILT_IN_FLOW_EVENTS) {
      this.register(definition);
    }
  }

  /**
   * Adds a flow event to the catalogue.
   * @throws Error when the name is malformed, reserved or taken, when the DTO
   *   does not extend `FlowEventDto`, or when no role may send the event.
   */
  register(definition: FlowEventDefinition): void {
    const { name, dto, roles } = definition;
    if (!EVENT_NAME_PATTERN.test(name)) {
      throw new Error(
        `Invalid flow event name "${name}": expected upper-case letters, digits and _ (at most 64), starting with a letter`,
      );
    }
    if (RESERVED_NAMES.has(name)) {
      throw new Error(
        `Invalid flow event name "${name}": the protocol reserves it`,
      );
    }
    if (this.events.has(name)) {
      throw new Error(`Flow event "${name}" is already registered`);
    }
    if (!(dto.prototype instanceof FlowEventDto) && dto !== FlowEventDto) {
      throw new Error(
        `Flow event "${name}": its DTO ${dto.name} must extend FlowEventDto`,
      );
    }
    if (roles.length === 0) {
      throw new Error(`Flow event "${name}": no role may send it`);
    }
    if (definition.effect.verified) {
      throw new Error(
        `Flow event "${name}": only results from the payment backend may be verified`,
      );
    }
    const clashing = [...new Set(dtoPropertyNames(dto))].filter((property) =>
      RESERVED_FIELDS.has(property),
    );
    if (clashing.length > 0) {
      throw new Error(
        `Flow event "${name}": its DTO ${dto.name} declares ${clashing.join(', ')}, which the server sets on every relayed event`,
      );
    }

    this.events.set(name, definition);
    this.logger.debug(`Registered flow event ${name}`);
  }

  isFlowEvent(name: string): boolean {
    return this.events.has(name);
  }

  eventNames(): string[] {
    return [...this.events.keys()];
  }

  /** @throws RelayException `UNKNOWN_EVENT` when the event is not registered. */
  definitionOf(name: string): FlowEventDefinition {
    const definition = this.events.get(name);
    if (!definition) {
      throw new RelayException(
        ErrorCode.UNKNOWN_EVENT,
        `Unknown event "${name}"`,
      );
    }
    return definition;
  }

  /** Tells whether the event settles a payment attempt (success or failure). */
  isResult(definition: FlowEventDefinition): boolean {
    return (
      definition.effect.status === RoomStatus.PAID ||
      definition.effect.status === RoomStatus.FAILED
    );
  }

  /** @throws RelayException `FORBIDDEN` when the role may not send the event. */
  authorize(definition: FlowEventDefinition, role: Role, roomId: string): void {
    if (definition.roles.includes(role)) {
      return;
    }
    throw new RelayException(
      ErrorCode.FORBIDDEN,
      `${definition.name} may only be sent by ${definition.roles.join(' or ')}, but this connection is ${role} in room "${roomId}"`,
    );
  }
}
