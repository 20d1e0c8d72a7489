/**
 * The adaptive concurrency limit of a node: how many calls it runs at once
 * before refusing more. A gradient limiter in the spirit of Netflix's
 * concurrency-limits. Each window compares the calls' latency (from the moment
 * they reached the front of the node, queueing behind other calls included)
 * with their service time (their handler's own run time, a slow average: the
 * baseline). While latency stays within `tolerance` times the baseline the
 * limit may grow, by about its square root (the queue it allows); when calls
 * wait longer than that behind each other, the limit shrinks in proportion
 * (to a fifth at most per window). Either happens only in a window where at
 * least half the limit was in use. It settles where latency starts to rise: the
 * most the node can run at once without every call slowing down.
 *
 * Measuring against the handlers' own time rather than the smallest latency
 * ever seen keeps a method whose latency varies by nature (a cache miss, a
 * slow query) from reading as overload.
 */
export interface ConcurrencyLimitOptions {
  /**
   * Limit before any latency was measured. Default 1000: a node does not
   * refuse a burst before it has seen calls slow down.
   */
  initialLimit: number;
  /** The limit never goes below this. Default 2. */
  minLimit: number;
  /** ... nor above this. Default 2000. */
  maxLimit: number;
  /**
   * How much longer than their handlers' own run time calls may take, on
   * average, before the limit shrinks: 2 accepts twice. Default 2.
   */
  tolerance: number;
  /**
   * Latency below this many ms over `tolerance` times the run time never
   * shrinks the limit: for handlers of a few microseconds, waiting behind a
   * few hundred others is still nothing worth refusing calls for. Default 2.
   */
  slackMs: number;
  /** The limit is recomputed once per window of this many ms (with at least 10 calls in it). Default 100. */
  windowMs: number;
  /** Time constant of the baseline's average when run times grow, ms (it follows a drop at once). Default 10000. */
  baselineMs: number;
}

export const DEFAULT_CONCURRENCY_LIMIT: ConcurrencyLimitOptions = {
  initialLimit: 1000,
  minLimit: 2,
  maxLimit: 2000,
  tolerance: 2,
  slackMs: 2,
  windowMs: 100,
  baselineMs: 10_000,
};

const MIN_WINDOW_SAMPLES = 10;
const FLOOR_MS = 0.01;
const MIN_GRADIENT = 0.2;

export class GradientLimiter {
  /** The current limit (a whole number of calls). */
  limit: number;
  /** Service time the latency is compared with, ms; NaN before the first window. */
  baseline = Number.NaN;
  private estimate: number;
  private windowStart = -1;
  private samples = 0;
  private latencySum = 0;
  private serviceSum = 0;
  private maxInflight = 0;

  constructor(readonly opts: ConcurrencyLimitOptions) {
    this.estimate = clamp(opts.initialLimit, opts.minLimit, opts.maxLimit);
    this.limit = Math.floor(this.estimate);
  }

  /**
   * One finished call: its latency and its handler's own run time (ms), and
   * the calls in flight when it finished.
   */
  sample(latencyMs: number, serviceMs: number, inflight: number, now: number): void {
    if (this.windowStart < 0) this.windowStart = now;
    this.samples++;
    this.latencySum += latencyMs;
    this.serviceSum += serviceMs;
    if (inflight > this.maxInflight) this.maxInflight = inflight;
    const elapsed = now - this.windowStart;
    if (elapsed < this.opts.windowMs || this.samples < MIN_WINDOW_SAMPLES) return;
    this.update(this.latencySum / this.samples, this.serviceSum / this.samples, elapsed);
    this.windowStart = now;
    this.samples = 0;
    this.latencySum = 0;
    this.serviceSum = 0;
    this.maxInflight = 0;
  }

  private update(latency: number, service: number, elapsed: number): void {
    const o = this.opts;
    const b = this.baseline;
    if (Number.isNaN(b) || service < b) this.baseline = service;
    else this.baseline = b + (service - b) * Math.min(1, elapsed / o.baselineMs);
    // Change the limit only when it was in use. Below half of it, calls are
    // not what slows the node down (a GC pause, another process on the core,
    // the node's own outgoing work), and a busier node may still need the room.
    if (this.maxInflight * 2 < this.estimate) return;
    const gradient = clamp((o.tolerance * this.baseline + o.slackMs) / Math.max(latency, FLOOR_MS), MIN_GRADIENT, 1);
    const next = gradient < 1 ? this.estimate * gradient : this.estimate + Math.sqrt(this.estimate);
    this.estimate = clamp(next, o.minLimit, o.maxLimit);
    this.limit = Math.floor(this.estimate);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
