import { GomsError, gomsError } from "../errors/index.js";
import type { BucketOptions } from "./options.js";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key. take() returns 0 when a token was taken, otherwise the
 * seconds to wait before the next one (for Retry-After). Keeps at most
 * `maxKeys` buckets, dropping the least recently used.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;

  constructor(
    o: BucketOptions,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(o.ratePerSec > 0)) throw new RangeError("ratePerSec must be positive");
    this.rate = o.ratePerSec / 1000;
    this.burst = Math.max(1, o.burst ?? o.ratePerSec);
  }

  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, at: t };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    } else {
      this.buckets.delete(key); // re-insert below: Map order is the LRU order
      b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.rate);
      b.at = t;
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * An error the gateway answers with a Retry-After header: its status comes
 * from its reason (429 for rate limits, 503 for shedding, see shed.ts).
 */
export class RetryLater extends GomsError {
  constructor(
    e: GomsError,
    readonly retryAfterSec: number,
  ) {
    super(e.rawMessage, e.code, e.reason === undefined ? {} : { reason: e.reason });
  }
}

/** resource_exhausted with a Retry-After (429). */
export class RateLimited extends RetryLater {
  constructor(what: string, retryAfterSec: number) {
    super(gomsError("GOMS_ERR_RATE_LIMITED", { what, retryAfterSec }), retryAfterSec);
  }
}
