import type { SecurityOptions } from './security-options.js';
import { TokenBucket } from './token-bucket.js';

/** Window over which rate-limited messages are counted toward a close, in ms. */
export const RATE_LIMIT_WINDOW_MS = 10_000;

/** Decision on one incoming message. */
export type MessageVerdict = 'accept' | 'rate-limited' | 'close';

/**
 * The per-connection abuse limits: a token bucket on incoming messages,
 * a count of rate-limited messages that ends the connection when abuse goes
 * on, and the bound on bytes waiting to be sent to a slow reader.
 */
export class ConnectionGuard {
  private readonly bucket?: TokenBucket;
  private limitedCount = 0;
  private windowStart: number;

  /** @param now current time in ms, from `performance.now()`. */
  constructor(
    private readonly options: Pick<
      SecurityOptions,
      | 'rateLimitPerSecond'
      | 'rateLimitBurst'
      | 'rateLimitCloseAfter'
      | 'maxBufferedBytes'
    >,
    now: number,
  ) {
    if (options.rateLimitPerSecond > 0) {
      this.bucket = new TokenBucket(
        options.rateLimitPerSecond,
        options.rateLimitBurst,
        now,
      );
    }
    this.windowStart = now;
  }

  /** Decides whether a message arriving at `now` may be handled. */
  admitMessage(now: number): MessageVerdict {
    if (!this.bucket || this.bucket.take(now)) {
      return 'accept';
    }

    if (now - this.windowStart >= RATE_LIMIT_WINDOW_MS) {
      this.windowStart = now;
      this.limitedCount = 0;
    }
    this.limitedCount += 1;
    return this.limitedCount > this.options.rateLimitCloseAfter
      ? 'close'
      : 'rate-limited';
  }

  /** Rate-limited messages in the current 10 s window. */
  get limitedInWindow(): number {
    return this.limitedCount;
  }

  /** Tells whether more bytes wait to be sent than `MAX_BUFFERED_BYTES` allows. */
  sendBufferExceeded(bufferedAmount: number): boolean {
    return (
      this.options.maxBufferedBytes > 0 &&
      bufferedAmount > this.options.maxBufferedBytes
    );
  }
}
