import { create } from "@bufbuild/protobuf";
import { MethodStatsSchema, type MethodStats } from "../gen/goms/v1/monitor_pb.js";
import { BUCKET_COUNT, bucketIndex, quantileFromBuckets } from "./buckets.js";

/** Codes 0..16 are counted in an array; anything else in a map. */
const CODE_SLOTS = 17;

/**
 * Counters of one (side, service, method). record() is the per-call path:
 * a few increments, no allocation. Buckets are cumulative; the interval view
 * is the difference to the copy taken at the previous snapshot.
 */
export class MethodCounter {
  calls = 0;
  retNonzero = 0;
  /** Calls the latency figures stand for: the sum of timed calls' weights, about `calls`. Cumulative. */
  timed = 0;
  /** Sum of durations (ms), weighted, cumulative. */
  sumMs = 0;
  readonly errors = new Float64Array(CODE_SLOTS);
  otherErrors: Map<number, number> | undefined;
  readonly buckets = new Float64Array(BUCKET_COUNT);
  private readonly prevBuckets = new Float64Array(BUCKET_COUNT);
  private prevCalls = 0;
  /** Largest duration in the current interval. */
  private maxMs = 0;

  constructor(
    readonly side: "server" | "client",
    readonly service: string,
    readonly method: string,
  ) {}

  /**
   * One call. `weight` > 0: it was timed and stands for `weight` calls in the
   * latency figures (sampling of hot methods); 0: counted only.
   */
  record(code: number, ret: number, durationMs: number, weight = 1): void {
    this.calls++;
    if (code !== 0) {
      if (code < CODE_SLOTS) this.errors[code]!++;
      else this.otherError(code);
    }
    if (ret !== 0) this.retNonzero++;
    if (weight <= 0) return;
    this.timed += weight;
    this.sumMs += durationMs * weight;
    this.buckets[bucketIndex(durationMs)]! += weight;
    if (durationMs > this.maxMs) this.maxMs = durationMs;
  }

  private otherError(code: number): void {
    const m = (this.otherErrors ??= new Map());
    m.set(code, (m.get(code) ?? 0) + 1);
  }

  /** Errors by code, cumulative (only codes seen). */
  errorsByCode(): Map<number, number> {
    const out = new Map<number, number>();
    for (let c = 1; c < CODE_SLOTS; c++) if (this.errors[c]! > 0) out.set(c, this.errors[c]!);
    if (this.otherErrors !== undefined) for (const [c, n] of this.otherErrors) out.set(c, n);
    return out;
  }

  /** Builds MethodStats and starts a new interval. */
  snapshot(): MethodStats {
    const interval = new Array<number>(BUCKET_COUNT);
    for (let i = 0; i < BUCKET_COUNT; i++) interval[i] = this.buckets[i]! - this.prevBuckets[i]!;
    const intervalCalls = this.calls - this.prevCalls;
    const errorsByCode: Record<number, bigint> = {};
    for (const [c, n] of this.errorsByCode()) errorsByCode[c] = BigInt(n);
    const m = create(MethodStatsSchema, {
      service: this.service,
      method: this.method,
      side: this.side,
      calls: BigInt(this.calls),
      errorsByCode,
      retNonzero: BigInt(this.retNonzero),
      p50Ms: quantileFromBuckets(interval, 0.5, this.maxMs),
      p99Ms: quantileFromBuckets(interval, 0.99, this.maxMs),
      intervalBuckets: interval.map((n) => BigInt(n)),
      intervalCalls: BigInt(intervalCalls),
    });
    this.prevBuckets.set(this.buckets);
    this.prevCalls = this.calls;
    this.maxMs = 0;
    return m;
  }
}
