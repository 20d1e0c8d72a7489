/**
 * Which calls of one method get a latency measurement.
 *
 * Counting a call is a few increments; timing it costs a clock read at each
 * end, which on Node 20 is about as much as the rest of the per-call
 * monitoring together. So a method that does more than `hotCallsPerSec`
 * calls per second has only one call in `every` timed, and each timed call
 * stands for `every` calls in latency statistics (its weight). Below that
 * rate every call is timed (weight 1). Call and error counts are always exact.
 */
export interface TimingPolicy {
  /** Calls per second above which a method's latency is sampled. Default 1000. */
  hotCallsPerSec: number;
  /** When sampling, one call in this many is timed (a power of two). Default 8. */
  every: number;
}

export const DEFAULT_TIMING: TimingPolicy = { hotCallsPerSec: 1000, every: 8 };

/** Normalises user input: `every` is rounded down to a power of two in [1, 1024]. */
export function timingPolicy(p: Partial<TimingPolicy> | "all" | undefined): TimingPolicy {
  if (p === "all") return { hotCallsPerSec: Infinity, every: 1 };
  const hot = p?.hotCallsPerSec ?? DEFAULT_TIMING.hotCallsPerSec;
  let every = Math.max(1, Math.min(1024, Math.floor(p?.every ?? DEFAULT_TIMING.every)));
  every = 2 ** Math.floor(Math.log2(every));
  return { hotCallsPerSec: hot > 0 ? hot : DEFAULT_TIMING.hotCallsPerSec, every };
}

/** Per-method state: a call sequence and a one-second rate window, advanced by timed calls only. */
export class TimingSampler {
  private every = 1;
  private seq = 0;
  private windowStart = -1;
  private windowCalls = 0;

  constructor(private readonly policy: TimingPolicy) {}

  /** For each call: 0 = don't time it, else its weight. */
  next(): number {
    this.windowCalls++;
    const every = this.every;
    if (every === 1) return 1;
    return (this.seq++ & (every - 1)) === 0 ? every : 0;
  }

  /** With the clock read of a timed call: once per second, re-decides whether the method is hot. */
  timed(now: number): void {
    if (this.windowStart < 0) {
      this.windowStart = now;
      this.windowCalls = 0;
      return;
    }
    const dt = now - this.windowStart;
    if (dt < 1000) return;
    const rate = (this.windowCalls * 1000) / dt;
    this.every = rate > this.policy.hotCallsPerSec ? this.policy.every : 1;
    this.seq = 0;
    this.windowStart = now;
    this.windowCalls = 0;
  }
}
