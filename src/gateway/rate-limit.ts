import { GomsError, gomsError } from "../errors/index.js";
import { CappedMap } from "../internal/util/capped-map.js";
import type { BucketOptions } from "./options.js";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key. take() returns 0 when a token was taken, otherwise the
 * seconds to wait before the next one (for Retry-After).
 *
 * The buckets live in a CappedMap of `maxKeys` keys, which never evicts: an
 * attacker who floods new keys (new client addresses) must not be able to push
 * out the bucket of a client that is being throttled, which would hand that
 * client a fresh burst. A bucket that has refilled to its burst is the same as
 * no bucket, so those are the ones dropped, and only when the table is full and
 * a new key arrives. When none has refilled, the new key is refused: take()
 * throws a RetryLater (429, GOMS_ERR_RATE_LIMIT_FULL) whose Retry-After is the
 * time until the first bucket refills. The sweep is O(size), so it runs at most
 * once per refill: until the soonest bucket can have refilled, a new key is
 * refused without looking at the table.
 */
export class RateLimiter {
  private readonly buckets: CappedMap<string, Bucket>;
  private readonly rate: number;
  private readonly burst: number;
  /** No bucket can have refilled before this time (a lower bound; ms on `now`'s clock). */
  private refillAt = 0;

  constructor(
    o: BucketOptions,
    maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(o.ratePerSec > 0)) throw new RangeError("ratePerSec must be positive");
    this.rate = o.ratePerSec / 1000;
    this.burst = Math.max(1, o.burst ?? o.ratePerSec);
    this.buckets = new CappedMap(maxKeys, (limit) => gomsError("GOMS_ERR_RATE_LIMIT_FULL", { keys: limit, retryAfterSec: 1 }));
  }

  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, at: t };
      if (!this.buckets.trySet(key, b) && !(this.sweep(t) && this.buckets.trySet(key, b))) {
        const retryAfterSec = Math.max(1, Math.ceil((this.refillAt - t) / 1000));
        throw new RetryLater(gomsError("GOMS_ERR_RATE_LIMIT_FULL", { keys: this.buckets.limit, retryAfterSec }), retryAfterSec);
      }
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.rate);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      // A take only pushes its bucket's refill time later, so the minimum of the
      // refill times seen at takes stays a lower bound of the soonest one.
      this.refillAt = Math.min(this.refillAt, t + (this.burst - b.tokens) / this.rate);
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate / 1000));
  }

  /** Drops the buckets that have refilled by `t`; true if any was. Does nothing before `refillAt`. */
  private sweep(t: number): boolean {
    if (t < this.refillAt) return false;
    let soonest = Infinity;
    let freed = false;
    for (const [key, b] of this.buckets) {
      const full = b.at + (this.burst - b.tokens) / this.rate;
      if (full <= t) {
        this.buckets.delete(key);
        freed = true;
      } else soonest = Math.min(soonest, full);
    }
    this.refillAt = soonest;
    return freed;
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
