import type { GomsError } from "../../errors/goms-error.js";
import { gomsError } from "../../errors/reasons.js";
import { FixedQueue } from "../util/fixed-queue.js";
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
  /** Calls waiting in the admission queue right now. */
  queued: number;
  /** Sum of the time admitted calls waited in the node before their handler ran, ms. */
  queueMsTotal: number;
  /** The handlers' typical run time the limiter compares latency with, ms (0 before it measured any). */
  baselineMs: number;
}

/** admit()'s answer for a call over the limit that may wait: pass its waiter to wait(). */
export const QUEUED = -1;

/** A call waiting in the admission queue for room under the concurrency limit. */
export interface Waiter {
  /** True once it no longer needs to run (canceled by its caller, its connection lost). */
  readonly gone: boolean;
  /** Its turn came: admit it again (its deadline may now be too close) and run it. */
  resume(): void;
}

/** Per method: a typical run time, as an exponential average of successful runs. */
interface MethodTime {
  avgMs: number;
  samples: number;
}

/** A turn is cut at `turnMs` only when its calls took at least this long each, on average (wall time). */
const HEAVY_CALL_MS = 0.1;

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
  /** Calls admitted in this turn (for turnMs: a turn is cut only when its calls average HEAVY_CALL_MS). */
  private turnCalls = 0;
  private settledInTick = 0;
  private admitted = 0;
  private refusedLimit = 0;
  private refusedDeadline = 0;
  private queueMs = 0;
  /** Calls over the limit waiting for room, oldest first; bounded by queueHasRoom(). */
  private readonly waiting = new FixedQueue<Waiter>();
  private drainQueued = false;
  /** A drain is running calls; the turn it starts is the queue's (endTick). */
  private inDrain = false;
  private tickByDrain = false;
  /**
   * The refusal over the limit, made once per limit value: at 4x a node's
   * capacity most calls are refused, and building an error (with its stack)
   * for each would take CPU from the calls being served. It never reaches a
   * handler or an in-process caller (in-process calls are not counted), only
   * the RESPONSE frame and the node's reporting.
   */
  private refusal: GomsError | undefined;
  private refusalLimit = -1;
  /** Keyed by hosted method objects: bounded by what the node hosts. */
  private readonly methods = new Map<object, MethodTime>();
  private readonly endTick = (): void => {
    this.active -= this.settledInTick;
    this.settledInTick = 0;
    this.tickStart = -1;
    this.turnCalls = 0;
    // A turn the queue started ended in the check phase of the loop turn
    // after it, so a poll phase came between: the next may start now. A turn
    // that started in a read waits for the next loop turn.
    if (this.tickByDrain) this.drain();
    else this.drainSoon();
  };
  /**
   * Runs waiting calls while there is room: in the turn after the one that
   * ended (endTick runs in the check phase, so a drain scheduled from it runs
   * after the next poll phase: the node reads what arrived meanwhile, and a
   * turn runs at most `limit` calls, whether they came from the queue or
   * straight from a read), or after an asynchronous call released its place.
   */
  private readonly drain = (): void => {
    this.drainQueued = false;
    const limiter = this.limiter;
    if (limiter === undefined) return;
    this.inDrain = true;
    try {
      while (this.waiting.length > 0 && this.active < limiter.limit) {
        // The rest run in the next turn (endTick drains then).
        if (this.turnUsedUp(limiter, performance.now())) break;
        const w = this.waiting.shift()!;
        if (!w.gone) w.resume();
      }
    } finally {
      this.inDrain = false;
    }
  };

  constructor(readonly opts: AdmissionOptions) {
    this.limiter = opts.concurrency === false ? undefined : new GradientLimiter(opts.concurrency);
  }

  /**
   * Whether a call of `method` may run now (`now` from performance.now()).
   * Returns the turn's start, to pass back to release(), or the refusal.
   * `counted` calls count against the concurrency limit (network calls;
   * in-process calls are part of work already admitted). A call over the
   * limit that `mayWait` gets QUEUED when the queue has room: the caller then
   * hands its waiter to wait(). A new call also waits behind calls already
   * waiting, first in first out. A resumed call comes back with `mayWait`
   * false and `queuedAt`, when it entered the queue (its wait counts from there).
   */
  admit(method: object, remainingMs: number | undefined, counted: boolean, now: number, mayWait = false, queuedAt = now): number | GomsError {
    if (remainingMs !== undefined && this.opts.deadlineAware) {
      const typical = this.methods.get(method);
      const needMs = typical !== undefined && typical.samples >= MIN_METHOD_SAMPLES ? typical.avgMs : 0;
      if (remainingMs <= needMs) {
        this.refusedDeadline++;
        return remainingMs <= 0 ? gomsError("GOMS_ERR_DEADLINE_EXCEEDED", {}) : gomsError("GOMS_ERR_DEADLINE_TOO_SHORT", { leftMs: Math.floor(remainingMs), typicalMs: Math.ceil(needMs) });
      }
    }
    const limiter = this.limiter;
    if (counted && limiter !== undefined && (this.active >= limiter.limit || (mayWait && this.waiting.length > 0))) {
      if (mayWait && this.queueHasRoom(limiter, remainingMs)) return QUEUED;
      this.refusedLimit++;
      if (this.refusal === undefined || this.refusalLimit !== limiter.limit) {
        this.refusal = gomsError("GOMS_ERR_OVERLOADED", { limit: limiter.limit }, { metadata: RETRY_ELSEWHERE_MD });
        this.refusalLimit = limiter.limit;
      }
      return this.refusal;
    }
    // This call waits for the next turn, so the answers of this one leave now
    // (only where it could wait anyway).
    if (mayWait && limiter !== undefined && this.turnUsedUp(limiter, now) && this.queueHasRoom(limiter, remainingMs)) return QUEUED;
    if (this.tickStart < 0) {
      this.tickStart = now;
      this.tickByDrain = this.inDrain;
      setImmediate(this.endTick);
    }
    this.admitted++;
    this.turnCalls++;
    this.queueMs += now - Math.min(this.tickStart, queuedAt);
    if (counted) this.active++;
    return this.tickStart;
  }

  /**
   * Whether this turn has run calls long enough: for `turnMs`, on calls that
   * took HEAVY_CALL_MS or more each. Answers leave when the turn ends, so its
   * length is their wait. A turn of many cheap calls (a burst of 256 taking
   * 3 ms) is not cut: its first answers would leave 1 ms sooner and its last
   * ones later, behind the next read.
   */
  private turnUsedUp(limiter: GradientLimiter, now: number): boolean {
    if (this.tickStart < 0) return false;
    const ran = now - this.tickStart;
    return ran >= limiter.opts.turnMs && ran >= this.turnCalls * HEAVY_CALL_MS;
  }

  /**
   * Whether one more call may wait: the calls waiting would run within
   * `queueMs`, or within `deadlineShare` of the time this call has left if
   * that is longer (by the baseline run time; one may always wait), and never
   * more than `maxLimit` of them (each holds its decoded request). The
   * deadline share is the limiter's own rule: a burst of cheap calls whose
   * callers allow seconds waits its turn (a few ms) rather than being refused
   * to save them those ms; calls with 100 ms deadlines get `queueMs`.
   */
  private queueHasRoom(limiter: GradientLimiter, remainingMs: number | undefined): boolean {
    const n = this.waiting.length;
    const o = limiter.opts;
    if (o.queueMs <= 0 || n >= o.maxLimit) return false;
    // Before a run time was measured nothing waits: a wait can't be bounded
    // in time without one (a node whose first calls hang would hold callers).
    const b = limiter.baseline;
    if (Number.isNaN(b)) return false;
    const allowedMs = remainingMs === undefined ? o.queueMs : Math.max(o.queueMs, o.deadlineShare * remainingMs);
    return n === 0 || (n + 1) * b <= allowedMs;
  }

  private drainSoon(): void {
    if (this.waiting.length > 0 && !this.drainQueued) {
      this.drainQueued = true;
      setImmediate(this.drain);
    }
  }

  /** Queues a call admit() answered QUEUED for. */
  wait(w: Waiter): void {
    this.waiting.push(w);
  }

  /**
   * An admitted call finished (`ok`: its handler succeeded) or was cut
   * (`measured` false: canceled, connection lost, which say nothing about
   * speed). `remainingMs`: what is left of its deadline now. The latency the
   * limiter sees counts from the start of the call's turn: time in the queue
   * before it is not the concurrency's doing (queueMs bounds it), as in
   * concurrency-limits, whose blocking limiter measures from when a waiting
   * call got its place.
   */
  release(method: object, tickAt: number, runAt: number, counted: boolean, ok: boolean, measured: boolean, now: number, remainingMs: number | undefined): void {
    if (counted) {
      if (tickAt === this.tickStart) this.settledInTick++;
      else {
        this.active--;
        this.drainSoon();
      }
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
      queued: this.waiting.length,
      admitted: this.admitted,
      refusedLimit: this.refusedLimit,
      refusedDeadline: this.refusedDeadline,
      queueMsTotal: this.queueMs,
      baselineMs: Number.isNaN(base) ? 0 : base,
    };
  }
}
