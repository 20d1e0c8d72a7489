/**
 * The adaptive concurrency limit of a node: how many calls it runs at once
 * before refusing more. A gradient limiter in the spirit of Netflix's
 * concurrency-limits. Each window compares the calls' latency (from the moment
 * they reached the front of the node, queueing behind other calls included)
 * with their service time (their handler's own run time, a slow average: the
 * baseline). While latency stays within `tolerance` times the baseline the
 * limit may grow, by about its square root (the queue it allows); when calls
 * wait longer than that behind each other (most calls of two windows in a
 * row over `tolerance` x baseline + `slackMs`, and over `deadlineShare` of
 * their deadline), the limit shrinks in proportion, from
 * the concurrency that was in use (to a fifth at most per window). It grows
 * only in windows where at least half of it was in use. It settles where latency starts to rise: the
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
   * few hundred others is still nothing worth refusing calls for. Default 1:
   * a slow turn no longer refuses calls (those over the limit wait in the
   * queue), it only makes turns shorter, which keeps the wait of calls
   * behind a long turn down (with 3, a 1 ms handler ran turns of about 10
   * calls and p99 under overload was 25 ms against 15 ms).
   */
  slackMs: number;
  /**
   * A call also counts as slow only when its wait used more than this share
   * of its deadline: a node whose callers allow 30 s does not refuse calls
   * to save them a few ms. Default 0.02 (2 ms of a 100 ms deadline).
   */
  deadlineShare: number;
  /**
   * Calls over the limit wait for room, first in first out, while the calls
   * already waiting would take less than this many ms to run (their number
   * times the baseline run time; at least one may wait, none before a run
   * time was measured, at most `maxLimit`); only calls beyond that are refused. Without it, a
   * node whose requests arrive in bursts refuses the end of one burst and
   * then sits idle until the next. It is what bounds a call's wait inside
   * the node, so keep it well under callers' deadlines. 0 refuses every call
   * over the limit at once. Default 5.
   */
  queueMs: number;
  /**
   * A turn of the event loop whose calls took 0.1 ms or more each runs calls
   * for about this many ms; calls that arrive after that wait (as calls over
   * the limit do, while the queue has room) for the next turn. Answers leave
   * at the end of the turn that ran their calls, so a long turn delays every
   * answer in it: with 1 ms handlers and a limit of 5, the first call of a
   * turn waited 5 ms for its answer to be sent. (A turn of many cheap calls
   * is not cut: that would only make its last calls wait behind the next
   * read.) Default 2.
   */
  turnMs: number;
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
  slackMs: 1,
  deadlineShare: 0.02,
  queueMs: 5,
  turnMs: 2,
  windowMs: 100,
  baselineMs: 10_000,
};

const MIN_WINDOW_SAMPLES = 10;
const FLOOR_MS = 0.01;
const MIN_GRADIENT = 0.2;
/** A slow window shrinks the limit by at least this factor. */
const MAX_SHRINK = 0.9;

export class GradientLimiter {
  /** The current limit (a whole number of calls). */
  limit: number;
  /** Service time the latency is compared with, ms; NaN before the first window. */
  baseline = Number.NaN;
  /** Latency above which a call counts as slow: tolerance x baseline + slack (Infinity before the first window). */
  private threshold = Infinity;
  private estimate: number;
  private windowStart = -1;
  private samples = 0;
  private slow = 0;
  private latencySum = 0;
  private serviceSum = 0;
  private maxInflight = 0;
  private lastSlow = false;

  constructor(readonly opts: ConcurrencyLimitOptions) {
    this.estimate = clamp(opts.initialLimit, opts.minLimit, opts.maxLimit);
    this.limit = Math.floor(this.estimate);
  }

  /**
   * One finished call: its latency and its handler's own run time (ms), the
   * calls in flight when it finished, and the time it had from the start of
   * its wait to its deadline (0 without one).
   */
  sample(latencyMs: number, serviceMs: number, inflight: number, now: number, deadlineMs = 0): void {
    if (this.windowStart < 0) this.windowStart = now;
    this.samples++;
    if (latencyMs > this.threshold && (deadlineMs <= 0 || latencyMs > this.opts.deadlineShare * deadlineMs)) this.slow++;
    this.latencySum += latencyMs;
    this.serviceSum += serviceMs;
    if (inflight > this.maxInflight) this.maxInflight = inflight;
    const elapsed = now - this.windowStart;
    if (elapsed < this.opts.windowMs || this.samples < MIN_WINDOW_SAMPLES) return;
    this.update(this.latencySum / this.samples, this.serviceSum / this.samples, elapsed);
    this.windowStart = now;
    this.samples = 0;
    this.slow = 0;
    this.latencySum = 0;
    this.serviceSum = 0;
    this.maxInflight = 0;
  }

  private update(latency: number, service: number, elapsed: number): void {
    const o = this.opts;
    // Most calls of the window slow, not just a few: one stalled turn (a GC
    // pause, the process descheduled) slows the calls of that turn only.
    // Two slow windows in a row: a process descheduled for a while on a busy
    // machine is not a queue the limit can drain.
    const slowWindow = this.slow * 2 > this.samples;
    const sustained = slowWindow && this.lastSlow;
    this.lastSlow = slowWindow;
    let next = this.estimate;
    if (sustained) {
      // Shrink from what was in use, not from a limit far above it, so that
      // the onset of overload is contained within a few windows.
      const gradient = clamp(this.threshold / Math.max(latency, FLOOR_MS), MIN_GRADIENT, MAX_SHRINK);
      next = Math.min(this.estimate, this.maxInflight) * gradient;
    } else if (!slowWindow && this.maxInflight * 2 >= this.estimate) {
      // Fine and in use: grow. An idle node says nothing about how much more it could take.
      next = this.estimate + Math.sqrt(this.estimate);
    }
    this.estimate = clamp(next, o.minLimit, o.maxLimit);
    this.limit = Math.floor(this.estimate);
    const b = this.baseline;
    if (Number.isNaN(b) || service < b) this.baseline = service;
    else this.baseline = b + (service - b) * Math.min(1, elapsed / o.baselineMs);
    this.threshold = o.tolerance * this.baseline + o.slackMs;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
