import { SlidingWindowLimiter, TokenBucket } from './token-bucket.js';

describe(TokenBucket.name, () => {
  it('allows a burst up to its capacity', () => {
    const bucket = new TokenBucket(1, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
    ]);
    expect(bucket.take(0)).toBe(false);
  });

  it('refills at its rate', () => {
    const bucket = new TokenBucket(10, 1, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
  });

  it('never holds more than its capacity', () => {
    const bucket = new TokenBucket(1000, 2, 0);
    expect(bucket.take(60_000)).toBe(true);
    expect(bucket.take(60_000)).toBe(true);
    expect(bucket.take(60_000)).toBe(false);
  });
});

describe(SlidingWindowLimiter.name, () => {
  it('allows the limit within a window', () => {
    const limiter = new SlidingWindowLimiter(2, 1000);
    limiter.record('a', 0);
    limiter.record('a', 10);
    expect(limiter.allows('a', 20)).toBe(false);
    expect(limiter.allows('b', 20)).toBe(true);
  });

  it('forgets events older than the window', () => {
    const limiter = new SlidingWindowLimiter(1, 1000);
    limiter.record('a', 0);
    expect(limiter.allows('a', 999)).toBe(false);
    expect(limiter.allows('a', 1000)).toBe(true);
  });
});
