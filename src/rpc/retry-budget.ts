import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { isRetryElsewhere } from "../internal/admission/admission.js";

/**
 * Limits retries to a fraction of calls, so that retries cannot multiply load
 * during an outage (like gRPC's retry throttling / Finagle's budgets).
 * Every call deposits `ratio` tokens; a retry withdraws one. `minPerSecond`
 * retries are always allowed.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per call made. Default 0.1 (10%). */
  ratio: number;
  /** Retries always allowed per second. Default 10. */
  minPerSecond: number;
  /** Max retries per call (attempts = 1 + maxRetries). Default 2. */
  maxRetries: number;
}

export const defaultRetryBudget: RetryBudgetOptions = { ratio: 0.1, minPerSecond: 10, maxRetries: 2 };

export class RetryBudget {
  /** In thousandths of a retry, so deposits of 0.1 add up exactly. */
  private milli = 0;
  private floorTokens: number;
  private floorAt = 0;
  readonly opts: RetryBudgetOptions;

  constructor(opts: RetryBudgetOptions, private readonly now: () => number = Date.now) {
    this.opts = opts;
    this.floorTokens = opts.minPerSecond;
  }

  deposit(): void {
    this.milli = Math.min(this.milli + Math.round(this.opts.ratio * 1000), 1_000_000);
  }

  /** True when a retry may go ahead (and consumes it). */
  withdraw(): boolean {
    const t = this.now();
    if (t - this.floorAt >= 1000) {
      this.floorAt = t;
      this.floorTokens = this.opts.minPerSecond;
    }
    if (this.floorTokens >= 1) {
      this.floorTokens--;
      return true;
    }
    if (this.milli >= 1000) {
      this.milli -= 1000;
      return true;
    }
    return false;
  }
}

/**
 * Whether a failed call may go to another node, budget and deadline aside:
 * the node refused it with the retry-elsewhere hint (no handler ran, so any
 * method may go elsewhere), or the method is idempotent and the call failed
 * unavailable.
 */
export function mayRetry(err: unknown, idempotent: boolean): err is GomsError {
  if (!GomsError.is(err)) return false;
  if (err.code === Code.ResourceExhausted && isRetryElsewhere(err)) return true;
  return idempotent && err.code === Code.Unavailable;
}
