import { RoomStatus } from '../../protocol/index.js';
import { applyFlowEffect, type FlowState } from './flow-effect.js';

const state = (overrides: Partial<FlowState> = {}): FlowState => ({
  status: RoomStatus.OPEN,
  pendingPayment: false,
  paidVerified: false,
  ...overrides,
});

describe(applyFlowEffect.name, () => {
  it('applies the status and pending flag of an effect', () => {
    const result = applyFlowEffect(state(), 'CLICKED_PAY', {
      status: RoomStatus.IN_PROGRESS,
      pendingPayment: true,
    });
    expect(result).toEqual({
      ok: true,
      state: state({ status: RoomStatus.IN_PROGRESS, pendingPayment: true }),
    });
  });

  it('keeps the status when the effect has none', () => {
    const result = applyFlowEffect(
      state({ status: RoomStatus.FAILED }),
      'NOTE_ADDED',
      {},
    );
    expect(result).toEqual({
      ok: true,
      state: state({ status: RoomStatus.FAILED }),
    });
  });

  it('rejects anything unverified after PAID', () => {
    const result = applyFlowEffect(
      state({ status: RoomStatus.PAID }),
      'ENTERED_SUMMARY',
      { status: RoomStatus.IN_PROGRESS },
    );
    expect(result.ok).toBe(false);
  });

  it('rejects a result without an outstanding CLICKED_PAY', () => {
    const result = applyFlowEffect(state(), 'PAYMENT_SUCCESS', {
      status: RoomStatus.PAID,
      requiresPendingPayment: true,
    });
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.reason).toContain('no CLICKED_PAY');
  });

  it('accepts a verified result in any unverified status', () => {
    for (const status of Object.values(RoomStatus)) {
      const result = applyFlowEffect(state({ status }), 'PAYMENT_ERROR', {
        status: RoomStatus.FAILED,
        verified: true,
      });
      expect(result).toEqual({
        ok: true,
        state: state({ status: RoomStatus.FAILED }),
      });
    }
  });

  it('marks a verified success as final', () => {
    const paid = applyFlowEffect(state(), 'PAYMENT_SUCCESS', {
      status: RoomStatus.PAID,
      verified: true,
    });
    expect(paid).toEqual({
      ok: true,
      state: state({ status: RoomStatus.PAID, paidVerified: true }),
    });

    const after = applyFlowEffect(
      state({ status: RoomStatus.PAID, paidVerified: true }),
      'PAYMENT_ERROR',
      { status: RoomStatus.FAILED, verified: true },
    );
    expect(after.ok).toBe(false);
  });
});
