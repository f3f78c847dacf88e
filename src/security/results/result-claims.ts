import { Inject, Injectable } from '@nestjs/common';
import { RoomStatus } from '../../protocol/index.js';
import type { FlowEffect } from '../../relay/flow/flow-effect.js';
import type { FlowEventDefinition } from '../../relay/flow/flow-event-definition.js';
import { SECURITY_OPTIONS, type SecurityOptions } from '../security-options.js';

/** A result a device reported, which the payment backend has not confirmed. */
export interface ResultClaim {
  event: string;
  eventId: string;
}

/** Rooms whose latest unverified claim is remembered; the oldest is forgotten first. */
const MAX_REMEMBERED_CLAIMS = 10_000;

/**
 * Policy for results that devices send. With `REQUIRE_VERIFIED_RESULT` a
 * device's `PAYMENT_SUCCESS` is only a claim. It is relayed with
 * `verified: false` and leaves the room's status alone. The latest claim of
 * each room is remembered so that a verified result contradicting it is
 * logged with both event ids.
 */
@Injectable()
export class ResultClaims {
  /** Room id → latest unverified result; insertion order is age. */
  private readonly claims = new Map<string, ResultClaim>();

  constructor(
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  /** Returns the effect a device-sent event has on its room. */
  effectOf(definition: FlowEventDefinition): FlowEffect {
    const { effect } = definition;
    if (
      !this.options.requireVerifiedResult ||
      effect.status !== RoomStatus.PAID
    ) {
      return effect;
    }
    const claimEffect = { ...effect };
    delete claimEffect.status;
    return claimEffect;
  }

  /** Remembers the latest unverified result of a room. */
  record(roomId: string, claim: ResultClaim): void {
    this.claims.delete(roomId);
    this.claims.set(roomId, claim);
    if (this.claims.size > MAX_REMEMBERED_CLAIMS) {
      const oldest = this.claims.keys().next().value;
      if (oldest !== undefined) {
        this.claims.delete(oldest);
      }
    }
  }

  /**
   * Removes and returns the latest unverified result of a room.
   * NOTE: only claims accepted by this instance are known; with several
   * instances sharing a store, a claim sent through another one is missed.
   */
  take(roomId: string): ResultClaim | undefined {
    const claim = this.claims.get(roomId);
    this.claims.delete(roomId);
    return claim;
  }
}
