/**
 * Hedged requests (docs/resilience.md): when an idempotent call has had no
 * answer for a while, a second copy goes to another node and the first answer
 * wins. This file holds when a call is due for its hedge; the call router
 * (RemoteCall) sends it.
 */
export interface HedgeOptions {
  /**
   * Hedge a call after this many ms without an answer. With `percentile`, the
   * least delay (the observed percentile is used when it is longer).
   */
  afterMs?: number;
  /** Hedge after the method's observed p95 latency (from this node's calls to it). */
  percentile?: "p95";
}

/**
 * One call's hedge (the call option `hedge`), over its method's default: a
 * second copy to another node after `afterMs` ms without an answer.
 */
export interface CallHedge {
  afterMs: number;
}

/** On by default: after the method's observed p95, never sooner than 1 ms. */
export const defaultHedge: HedgeOptions = { percentile: "p95" };

/** Samples a method needs before its observed percentile is trusted. */
const MIN_SAMPLES = 20;
/**
 * Step of the percentile estimates: the p95 goes up by a factor 1 + STEP x
 * 0.95 when a sample is above it, down by 1 - STEP x 0.05 when not, so it
 * settles where 5% of the samples are above it (a stochastic-approximation
 * quantile: no histogram, two multiplications per sample); the p99 likewise.
 */
const STEP = 0.1;

/** A running estimate of the quantile `q` of the samples given. */
function nextQuantile(est: number, ms: number, q: number): number {
  if (Number.isNaN(est)) return ms;
  return est * (ms > est ? 1 + STEP * q : 1 - STEP * (1 - q));
}

/** One call that may be hedged: a link in its method's queue. */
export interface Hedgeable {
  /** Date.now() at which it is due for a hedge. */
  due: number;
  hedgeNext: Hedgeable | undefined;
  /** Due: sends the hedge if the call is still waiting (it checks). */
  hedgeDue(): void;
}

/**
 * The calls of one method waiting for their hedge time, in sending order,
 * with one timer for the whole queue: a call that answers before its time
 * costs a link, not a timer. Calls that answered stay linked until the timer
 * passes them (their hedgeDue() does nothing). While calls keep coming the
 * timer fires about once per delay, whatever the call rate.
 */
export class MethodHedge {
  /** The p95 and p99 estimates, ms (NaN before the first sample). */
  private p95 = Number.NaN;
  private p99Ms = Number.NaN;
  private samples = 0;
  private head: Hedgeable | undefined;
  private tail: Hedgeable | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The Date.now() the timer is armed for. */
  private timerDue = 0;
  private readonly check = (): void => this.run();
  private readonly fire = (): void => {
    this.timer = undefined;
    // After the poll phase: answers that already arrived are read before a hedge is decided.
    setImmediate(this.check);
  };

  constructor(private readonly opts: HedgeOptions) {}

  /** The delay before a call of this method is hedged, ms; undefined: do not hedge (yet). */
  delay(): number | undefined {
    const after = this.opts.afterMs;
    if (this.opts.percentile === undefined) return after;
    if (this.samples < MIN_SAMPLES) return after;
    return Math.max(1, Math.ceil(this.p95), after ?? 0);
  }

  /** The method's observed p99 latency, ms (undefined before 20 sampled calls): how long a peer's silence says it hangs. */
  p99(): number | undefined {
    return this.samples < MIN_SAMPLES ? undefined : this.p99Ms;
  }

  /**
   * A sampled latency of a call of this method, ms. A call that lost to its
   * hedge counts with its time so far, if its node answered other calls
   * meanwhile (see RemoteCall); the estimates run whatever the hedge options,
   * for the p99 that stall detection reads.
   */
  observe(ms: number): void {
    this.samples++;
    this.p95 = nextQuantile(this.p95, ms, 0.95);
    this.p99Ms = nextQuantile(this.p99Ms, ms, 0.99);
  }

  /** Queues `c` (its `due` set) for its hedge time. */
  add(c: Hedgeable): void {
    c.hedgeNext = undefined;
    if (this.tail === undefined) this.head = c;
    else this.tail.hedgeNext = c;
    this.tail = c;
    if (this.timer === undefined) this.arm(c.due);
  }

  private arm(due: number): void {
    this.timerDue = due;
    // +1: Date.now() truncates, so a call sent at x.9 ms must not be hedged at x + delay.
    this.timer = setTimeout(this.fire, Math.max(1, due - Date.now() + 1));
    this.timer.unref();
  }

  private run(): void {
    const now = Date.now();
    let c = this.head;
    // Delays change with the estimate, so the queue is sorted only roughly: a call behind a later one waits for it.
    while (c !== undefined && c.due < now) {
      const next = c.hedgeNext;
      c.hedgeNext = undefined;
      c.hedgeDue();
      c = next;
    }
    this.head = c;
    if (c === undefined) this.tail = undefined;
    else if (this.timer === undefined || this.timerDue > c.due) {
      // A call queued between the timer and this check (after the poll phase) armed the timer for
      // its own, later, time: the head must not wait for it.
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.arm(c.due);
    }
  }

  /** Drops every queued call (the node is closing). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }
}

/** Hedges sent and won since start. */
export interface HedgeStats {
  /** Second copies sent. */
  sent: number;
  /** Calls the second copy answered first. */
  won: number;
  /** Hedges due but not sent: the retry budget (or the call's `maxRetries`) had none left. */
  refused: number;
  /**
   * Of `sent`: calls moved outside the budget because their node was ejected
   * as hung (its calls waiting for a refused hedge, and those whose hedge
   * came due after the ejection).
   */
  rescued: number;
  /** The hedge delay of each method called since start, ms (undefined: not hedged yet, e.g. too few samples). */
  delays: { method: string; delayMs: number | undefined }[];
}

/**
 * The hedge state of every method this node calls (keyed by the routed
 * method: bounded by the descriptors in use). With hedging off by default
 * (`opts` undefined) it still keeps each method's latency estimates, for the
 * calls that ask for a hedge themselves and for stall detection.
 */
export class Hedger {
  private readonly methods = new Map<{ readonly pathString: string }, MethodHedge>();
  sent = 0;
  won = 0;
  refused = 0;
  rescued = 0;

  constructor(readonly opts: HedgeOptions | undefined) {}

  of(method: { readonly pathString: string }): MethodHedge {
    let m = this.methods.get(method);
    if (m === undefined) this.methods.set(method, (m = new MethodHedge(this.opts ?? {})));
    return m;
  }

  stats(): HedgeStats {
    const delays = [...this.methods].map(([k, m]) => ({ method: k.pathString, delayMs: m.delay() }));
    return { sent: this.sent, won: this.won, refused: this.refused, rescued: this.rescued, delays };
  }

  stop(): void {
    for (const m of this.methods.values()) m.stop();
  }
}
