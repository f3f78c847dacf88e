import { Injectable, Logger } from '@nestjs/common';
import type { RoomStatus } from '../../protocol/index.js';
import { PaymentFlowService } from '../../relay/flow/payment-flow.service.js';
import { relayedEventTemplate } from '../../relay/frames.js';
import { RelayEvents } from '../../relay/relay-events.js';
import { RelayException } from '../../relay/relay.exception.js';
import { RoomStore } from '../../relay/rooms/room-store.js';
import { ResultClaims } from './result-claims.js';
import {
  relayedResultFields,
  type ReportResultDto,
} from './report-result.dto.js';

/** Response body of `POST /rooms/:roomId/result`. */
export interface ResultReceipt {
  roomId: string;
  event: string;
  eventId: string;
  seq: number;
  /** True when this `eventId` was recorded before; nothing changed. */
  duplicate: boolean;
  /** Members the result was sent to, on every instance. */
  deliveredTo: number;
  status: RoomStatus;
}

/**
 * Prefix of the id under which a verified result is stored for duplicate
 * detection. Device event ids cannot contain `:`, so a device can never
 * pre-empt a verified result by sending an event with the backend's id.
 */
const VERIFIED_ID_PREFIX = 'verified:';

/**
 * Records payment results that the payment backend reported server to
 * server. Such a result is relayed to every member with `verified: true`.
 * It is accepted whatever the room's status, except after a verified `PAID`.
 * It creates the room when no device joined it yet, so that a device joining
 * later receives it in `missed`.
 */
@Injectable()
export class VerifiedResultService {
  private readonly logger = new Logger(VerifiedResultService.name);

  constructor(
    private readonly store: RoomStore,
    private readonly flow: PaymentFlowService,
    private readonly claims: ResultClaims,
    private readonly events: RelayEvents,
  ) {}

  /**
   * Records one verified result; a repeat of the same `eventId` returns the
   * first one's `seq` with `duplicate: true`.
   * @throws RelayException `INVALID_TRANSITION` after a verified `PAID`,
   *   `NOT_IN_ROOM` when the store cannot create the room.
   */
  async record(roomId: string, dto: ReportResultDto): Promise<ResultReceipt> {
    const definition = this.flow.definitionOf(dto.event);
    const receivedAt = performance.now();
    const now = Date.now();
    const outcome = await this.store.append({
      roomId,
      createRoom: true,
      event: dto.event,
      eventId: VERIFIED_ID_PREFIX + dto.eventId,
      effect: { ...definition.effect, verified: true },
      frame: relayedEventTemplate(
        dto.event,
        roomId,
        dto.eventId,
        new Date(now).toISOString(),
        undefined,
        relayedResultFields(dto),
        true,
      ),
      now,
    });
    if (!outcome.ok) {
      this.logger.warn(
        `Room ${roomId}: verified ${dto.event} ${dto.eventId} rejected: ${outcome.code}`,
      );
      throw new RelayException(outcome.code, outcome.message);
    }

    this.events.emit('relayed', {
      roomId,
      event: dto.event,
      status: outcome.status,
      receivedAt,
      duplicate: outcome.duplicate,
    });
    if (outcome.duplicate) {
      this.logger.log(
        `Room ${roomId}: verified ${dto.event} ${dto.eventId} was already recorded as seq ${outcome.seq}`,
      );
    } else {
      this.logger.log(
        `Room ${roomId}: verified ${dto.event} ${dto.eventId} is seq ${outcome.seq}; status ${outcome.status}`,
      );
      this.logConflict(roomId, dto);
    }
    return {
      roomId,
      event: dto.event,
      eventId: dto.eventId,
      seq: outcome.seq,
      duplicate: outcome.duplicate,
      deliveredTo: outcome.recipients,
      status: outcome.status,
    };
  }

  private logConflict(roomId: string, dto: ReportResultDto): void {
    const claim = this.claims.take(roomId);
    if (!claim || claim.event === dto.event) {
      return;
    }
    this.logger.warn(
      `Room ${roomId}: verified ${dto.event} ${dto.eventId} contradicts the unverified ${claim.event} ${claim.eventId} a device sent; the verified result wins`,
    );
  }
}
