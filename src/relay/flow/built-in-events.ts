import { ClientEvent, Role, RoomStatus } from '../../protocol/index.js';
import {
  ClickedPayDto,
  ClickedProceedDto,
  DataFilledDto,
  EnteredSummaryDto,
  PaymentErrorDto,
  PaymentMethodChangedDto,
  PaymentSuccessDto,
} from '../dto/flow-events.dto.js';
import type { FlowEventDefinition } from './flow-event-definition.js';

const PAYER_ONLY = [Role.PAYER] as const;

/** The seven checkout steps and results that every room understands. */
export const BUILT_IN_FLOW_EVENTS: readonly FlowEventDefinition[] = [
  {
    name: ClientEvent.ENTERED_SUMMARY,
    dto: EnteredSummaryDto,
    roles: PAYER_ONLY,
    effect: { status: RoomStatus.IN_PROGRESS },
  },
  {
    name: ClientEvent.CLICKED_PROCEED,
    dto: ClickedProceedDto,
    roles: PAYER_ONLY,
    effect: { status: RoomStatus.IN_PROGRESS },
  },
  {
    name: ClientEvent.PAYMENT_METHOD_CHANGED,
    dto: PaymentMethodChangedDto,
    roles: PAYER_ONLY,
    effect: { status: RoomStatus.IN_PROGRESS },
  },
  {
    name: ClientEvent.DATA_FILLED,
    dto: DataFilledDto,
    roles: PAYER_ONLY,
    effect: { status: RoomStatus.IN_PROGRESS },
  },
  {
    name: ClientEvent.CLICKED_PAY,
    dto: ClickedPayDto,
    roles: PAYER_ONLY,
    effect: { status: RoomStatus.IN_PROGRESS, pendingPayment: true },
  },
  {
    name: ClientEvent.PAYMENT_SUCCESS,
    dto: PaymentSuccessDto,
    roles: PAYER_ONLY,
    effect: {
      status: RoomStatus.PAID,
      requiresPendingPayment: true,
      pendingPayment: false,
    },
  },
  {
    name: ClientEvent.PAYMENT_ERROR,
    dto: PaymentErrorDto,
    roles: PAYER_ONLY,
    effect: {
      status: RoomStatus.FAILED,
      requiresPendingPayment: true,
      pendingPayment: false,
    },
  },
];
