import { RoomStatus } from '../../protocol/index.js';

/**
 * What a flow event does to a room. Stores apply it atomically with the
 * duplicate check and the `seq` assignment, so it is plain data.
 */
export interface FlowEffect {
  /** Status after the event; absent keeps the current one. */
  status?: RoomStatus;
  /** Rejects the event unless a `CLICKED_PAY` is outstanding. */
  requiresPendingPayment?: boolean;
  /** Sets (`true`) or settles (`false`) the outstanding `CLICKED_PAY`. */
  pendingPayment?: boolean;
  /**
   * A result confirmed by the payment backend, server to server. It is
   * accepted in any status, except once a verified result made the room `PAID`.
   */
  verified?: boolean;
}

/** The part of a room's state that flow events read and change. */
export interface FlowState {
  status: RoomStatus;
  pendingPayment: boolean;
  /** True once a verified result made the room `PAID`. */
  paidVerified: boolean;
}

export type TransitionResult =
  { ok: true; state: FlowState } | { ok: false; reason: string };

/**
 * Applies one flow event to a room's flow state. This function is the whole
 * transition table: nothing unverified is accepted after `PAID`, an effect
 * that needs an outstanding `CLICKED_PAY` is rejected without one, and a
 * verified result wins over any unverified state.
 */
export function applyFlowEffect(
  state: FlowState,
  event: string,
  effect: FlowEffect,
): TransitionResult {
  if (effect.verified) {
    if (state.paidVerified) {
      return {
        ok: false,
        reason: `${event} is not allowed: a verified result already made the room PAID`,
      };
    }
    const status = effect.status ?? state.status;
    return {
      ok: true,
      state: {
        status,
        pendingPayment: false,
        paidVerified: status === RoomStatus.PAID,
      },
    };
  }

  if (state.status === RoomStatus.PAID) {
    return {
      ok: false,
      reason: `${event} is not allowed: the room is PAID, which is final`,
    };
  }

  if (effect.requiresPendingPayment && !state.pendingPayment) {
    return {
      ok: false,
      reason: `${event} is not allowed: there is no CLICKED_PAY waiting for a result (status ${state.status})`,
    };
  }

  return {
    ok: true,
    state: {
      status: effect.status ?? state.status,
      pendingPayment: effect.pendingPayment ?? state.pendingPayment,
      paidVerified: state.paidVerified,
    },
  };
}
