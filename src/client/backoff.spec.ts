import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type BackoffOptions,
} from './backoff.js';

const options: BackoffOptions = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 0.5,
};

describe(backoffDelay.name, () => {
  it('stays within the jitter band of the exponential base', () => {
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const base = Math.min(5_000, 100 * 2 ** attempt);
      const lowest = backoffDelay(attempt, options, () => 0.999999);
      const highest = backoffDelay(attempt, options, () => 0);
      expect(highest).toBe(base);
      expect(lowest).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
      expect(lowest).toBeLessThanOrEqual(base);
    }
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelay(1_000, options, () => 0)).toBe(5_000);
  });

  it('grows by the multiplier without jitter', () => {
    const exact = { ...options, jitter: 0 };
    const delays = [0, 1, 2, 3].map((attempt) =>
      backoffDelay(attempt, exact, Math.random),
    );
    expect(delays).toEqual([100, 200, 400, 800]);
  });

  it('has defaults of 250 ms to 10 s', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(250);
    expect(backoffDelay(99, DEFAULT_BACKOFF, () => 0)).toBe(10_000);
  });
});
