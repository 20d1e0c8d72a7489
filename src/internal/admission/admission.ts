import type { GomsError } from "../../errors/goms-error.js";
import { gomsError } from "../../errors/reasons.js";
import { DEFAULT_CONCURRENCY_LIMIT, GradientLimiter, type ConcurrencyLimitOptions } from "./limiter.js";

/**
 * Response metadata a refused call carries when another node may take it: the
 * call was refused before any handler ran, so sending it elsewhere is safe
 * even for methods that are not idempotent (docs/resilience.md).
 */
export const RETRY_HINT_KEY = "x-goms-retry";
export const RETRY_ELSEWHERE = "elsewhere";
const RETRY_ELSEWHERE_MD = Object.freeze({ [RETRY_HINT_KEY]: RETRY_ELSEWHERE });

/** True when `err` is a refusal that another node may serve (it carries the hint). */
export function isRetryElsewhere(err: GomsError): boolean {
  return err.metadata[RETRY_HINT_KEY] === RETRY_ELSEWHERE;
}

export interface AdmissionOptions {
  /** The adaptive concurrency limit, or false for none. */
  concurrency: ConcurrencyLimitOptions | false;
  /** Refuse calls whose deadline passes before a typical call of their method would finish. */
  deadlineAware: boolean;
}

/** What monitoring reads (node.stats().admission). */
export interface AdmissionStats {
  /** The concurrency limit now (0 when the limiter is off). */
  limit: number;
  /** Calls counted against the limit right now. */
  inflight: number;
  /** Calls admitted since start. */
  admitted: number;
  /** Calls refused over the concurrency limit since start. */
  refusedLimit: number;
  /** Calls refused because their deadline had passed or would pass first, since start. */
  refusedDeadline: number;
  /** Sum of the time admitted calls waited in the node before their handler ran, ms. */
  queueMsTotal: number;
  /** The handlers' typical run time the limiter compares latency with, ms (0 before it measured any). */
  baselineMs: number;
}

/** Per method: a typical run time, as an exponential average of successful runs. */
interface MethodTime {
  avgMs: number;
  samples: number;
}

/** Runs of a method needed before its average is trusted to refuse calls. */
const MIN_METHOD_SAMPLES = 20;
const METHOD_ALPHA = 0.05;

/**
 * Node-wide admission of served calls (every connection and the in-process
 * endpoint share one). Decides, just before a handler would run, whether it
 * runs: the concurrency limit (GradientLimiter) and deadline-aware refusal.
 *
 * Concurrency in a Node process: a handler that does its work synchronously
 * finishes before the next request is even parsed, so "calls in flight" alone
 * would never exceed one while requests pile up in the read buffers. So calls
 * admitted during one turn of the event loop count as concurrent until that
 * turn ends, even if they already finished (they answer together at its end),
 * and latency is measured from the turn's first admission: a call run after
 * ten others in the same turn waited for them, and that wait is the queue
 * time the limiter must see.
 */
/** Admission from a node's `limits` options: adaptive limit and deadline awareness on unless turned off. */
export function admissionFromLimits(limits: { adaptiveConcurrency?: Partial<ConcurrencyLimitOptions> | false; deadlineAdmission?: boolean }): Admission {
  const c = limits.adaptiveConcurrency;
  return new Admission({
    concurrency: c === false ? false : { ...DEFAULT_CONCURRENCY_LIMIT, ...c },
    deadlineAware: limits.deadlineAdmission ?? true,
  });
}

export class Admission {
  readonly limiter: GradientLimiter | undefined;
  private active = 0;
  private tickStart = -1;
  private settledInTick = 0;
  private admitted = 0;
  private refusedLimit = 0;
  private refusedDeadline = 0;
  private queueMs = 0;
  /** Keyed by hosted method objects: bounded by what the node hosts. */
  private readonly methods = new Map<object, MethodTime>();
  private readonly endTick = (): void => {
    this.active -= this.settledInTick;
    this.settledInTick = 0;
    this.tickStart = -1;
  };

  constructor(readonly opts: AdmissionOptions) {
    this.limiter = opts.concurrency === false ? undefined : new GradientLimiter(opts.concurrency);
  }

  /**
   * Whether a call of `method` may run now (`now` from performance.now()).
   * Returns the turn's start, to pass back to release(), or the refusal.
   * `counted` calls count against the concurrency limit (network calls;
   * in-process calls are part of work already admitted).
   */
  admit(method: object, remainingMs: number | undefined, counted: boolean, now: number): number | GomsError {
    if (remainingMs !== undefined && this.opts.deadlineAware) {
      const typical = this.methods.get(method);
      const needMs = typical !== undefined && typical.samples >= MIN_METHOD_SAMPLES ? typical.avgMs : 0;
      if (remainingMs <= needMs) {
        this.refusedDeadline++;
        return remainingMs <= 0 ? gomsError("GOMS_ERR_DEADLINE_EXCEEDED", {}) : gomsError("GOMS_ERR_DEADLINE_TOO_SHORT", { leftMs: Math.floor(remainingMs), typicalMs: Math.ceil(needMs) });
      }
    }
    const limiter = this.limiter;
    if (counted && limiter !== undefined && this.active >= limiter.limit) {
      this.refusedLimit++;
      return gomsError("GOMS_ERR_OVERLOADED", { limit: limiter.limit }, { metadata: RETRY_ELSEWHERE_MD });
    }
    if (this.tickStart < 0) {
      this.tickStart = now;
      setImmediate(this.endTick);
    }
    this.admitted++;
    this.queueMs += now - this.tickStart;
    if (counted) this.active++;
    return this.tickStart;
  }

  /**
   * An admitted call finished (`ok`: its handler succeeded) or was cut
   * (`measured` false: canceled, connection lost, which say nothing about
   * speed). `remainingMs`: what is left of its deadline now.
   */
  release(method: object, tickAt: number, runAt: number, counted: boolean, ok: boolean, measured: boolean, now: number, remainingMs: number | undefined): void {
    if (counted) {
      if (tickAt === this.tickStart) this.settledInTick++;
      else this.active--;
      if (measured) this.limiter?.sample(now - tickAt, now - runAt, this.active, now, remainingMs === undefined ? 0 : Math.max(1e-3, now - tickAt + remainingMs));
    }
    if (!ok || !this.opts.deadlineAware) return;
    const ms = now - runAt;
    let t = this.methods.get(method);
    if (t === undefined) this.methods.set(method, (t = { avgMs: ms, samples: 0 }));
    t.samples++;
    t.avgMs += (ms - t.avgMs) * (t.samples < MIN_METHOD_SAMPLES ? 1 / t.samples : METHOD_ALPHA);
  }

  stats(): AdmissionStats {
    const base = this.limiter?.baseline ?? Number.NaN;
    return {
      limit: this.limiter?.limit ?? 0,
      inflight: this.active,
      admitted: this.admitted,
      refusedLimit: this.refusedLimit,
      refusedDeadline: this.refusedDeadline,
      queueMsTotal: this.queueMs,
      baselineMs: Number.isNaN(base) ? 0 : base,
    };
  }
}
