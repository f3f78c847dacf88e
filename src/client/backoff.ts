/** Reconnect delays: exponential growth capped at a maximum, with jitter. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialDelayMs: number;
  /** Largest delay, in ms. */
  maxDelayMs: number;
  /** Growth factor between consecutive retries. */
  multiplier: number;
  /**
   * Share of the delay that is random, from 0 (none) to 1 (the whole delay):
   * the delay falls between `(1 - jitter) × base` and `base`.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.5,
};

/**
 * Computes the delay before retry number `attempt` (0 for the first retry).
 * `random` returns a number in [0, 1), as `Math.random` does.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.multiplier ** attempt,
  );
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}
