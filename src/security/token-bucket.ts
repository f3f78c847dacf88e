/**
 * A token bucket: it contains at most `capacity` tokens and refills at
 * `ratePerSecond`. Each message takes one token. A rate of 0 never refills.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /** @param now current time in ms, from any monotonic clock. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes one token; returns false, taking nothing, when the bucket is empty. */
  take(now: number): boolean {
    const elapsedMs = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(
      this.capacity,
      this.tokens + (elapsedMs * this.ratePerSecond) / 1000,
    );
    this.updatedAt = now;
    if (this.tokens < 1) {
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}

/**
 * Counts events per key within a sliding window, such as rooms created per
 * client address per minute. Memory is bounded by `limit` timestamps per key,
 * and keys whose window passed are dropped as the map grows.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Tells whether one more event for `key` stays within the limit. */
  allows(key: string, now: number): boolean {
    return this.recent(key, now).length < this.limit;
  }

  /** Records one event for `key`. */
  record(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    if (recent.length > this.limit) {
      recent.shift();
    }
    this.hits.set(key, recent);
    if (this.hits.size > PRUNE_THRESHOLD) {
      this.prune(now);
    }
  }

  private recent(key: string, now: number): number[] {
    const times = this.hits.get(key) ?? [];
    while (times.length > 0 && now - times[0] >= this.windowMs) {
      times.shift();
    }
    return times;
  }

  private prune(now: number): void {
    for (const [key, times] of this.hits) {
      const last = times[times.length - 1];
      if (last === undefined || now - last >= this.windowMs) {
        this.hits.delete(key);
      }
    }
  }
}

/** Number of keys above which `SlidingWindowLimiter` drops expired ones. */
const PRUNE_THRESHOLD = 10_000;
