import type { Type } from '@nestjs/common';
import type { Role } from '../../protocol/index.js';
import type { FlowEventDto } from '../dto/flow-events.dto.js';
import type { FlowEffect } from './flow-effect.js';

/**
 * One flow event: its wire name, the DTO that validates its data, the roles
 * that may send it and its effect on the room's status.
 */
export interface FlowEventDefinition {
  /** Upper-case wire name, such as `COUPON_APPLIED`. */
  name: string;
  dto: Type<FlowEventDto>;
  roles: readonly Role[];
  effect: FlowEffect;
}
