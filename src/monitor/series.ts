import type { MethodStats, NodeStats } from "../gen/goms/v1/monitor_pb.js";
import type { SeriesPoint } from "./store-types.js";
import { BUCKET_COUNT, quantileFromBuckets } from "./buckets.js";

/**
 * Which calls a node's qps/errors/p99 count: the calls it served, or, for a
 * node that serves nothing (a pure client), the calls it made.
 */
function sideOf(s: NodeStats): "server" | "client" {
  return s.methods.some((m) => m.side === "server") ? "server" : "client";
}

function errorsOf(m: MethodStats): number {
  let n = 0;
  for (const v of Object.values(m.errorsByCode)) n += Number(v);
  return n;
}

function refusedOf(s: NodeStats): number {
  const a = s.admission;
  return a === undefined ? 0 : Number(a.refusedLimit + a.refusedDeadline);
}

function hedgesOf(s: NodeStats): number {
  return Number(s.hedges?.sent ?? 0n);
}

function key(m: MethodStats): string {
  return `${m.side}\u0000${m.service}\u0000${m.method}`;
}

/**
 * The node-wide p99 of one interval: the interval histograms of every method
 * (of the chosen side) are added up and the 99th percentile is estimated from
 * the merged buckets. Every call weighs the same, so a busy method dominates
 * and a rare slow method does not pin the node's p99 the way max(method p99)
 * would; the estimate is capped at the largest method p99 (the bucket
 * interpolation cannot know more than that).
 */
export function mergedP99(s: NodeStats, side: "server" | "client"): number {
  const merged = new Array<number>(BUCKET_COUNT).fill(0);
  let cap = 0;
  let any = false;
  for (const m of s.methods) {
    if (m.side !== side || m.intervalCalls === 0n) continue;
    any = true;
    if (m.p99Ms > cap) cap = m.p99Ms;
    for (let i = 0; i < BUCKET_COUNT && i < m.intervalBuckets.length; i++) merged[i]! += Number(m.intervalBuckets[i]!);
  }
  if (!any) return 0;
  return Math.min(quantileFromBuckets(merged, 0.99), cap);
}

/**
 * One series point from a push and the previous push of the same node.
 * Rates come from cumulative counter deltas over the time between the two
 * pushes (node clock), so a lost push does not lose calls. Without a previous
 * push, or when the node restarted (uptime went down), the point uses the
 * interval counts over interval_ms instead.
 */
export function seriesPoint(cur: NodeStats, prev: NodeStats | undefined, receivedAt: number): SeriesPoint {
  const side = sideOf(cur);
  let calls = 0;
  let errors = 0;
  let seconds: number;
  const restarted = prev === undefined || cur.uptimeMs < prev.uptimeMs;
  if (restarted) {
    seconds = cur.intervalMs / 1000;
    for (const m of cur.methods) {
      if (m.side !== side) continue;
      calls += Number(m.intervalCalls);
    }
    // Errors are only cumulative: without a previous push, spread them over the uptime.
    const up = Number(cur.uptimeMs) / 1000;
    let all = 0;
    for (const m of cur.methods) if (m.side === side) all += errorsOf(m);
    errors = up > 0 && seconds > 0 ? (all / up) * seconds : 0;
  } else {
    seconds = Number(cur.timeUnixMs - prev.timeUnixMs) / 1000;
    if (!(seconds > 0)) seconds = cur.intervalMs / 1000;
    const before = new Map<string, MethodStats>();
    for (const m of prev.methods) before.set(key(m), m);
    for (const m of cur.methods) {
      if (m.side !== side) continue;
      const p = before.get(key(m));
      calls += Number(m.calls - (p?.calls ?? 0n));
      errors += errorsOf(m) - (p === undefined ? 0 : errorsOf(p));
    }
  }
  const per = (n: number): number => (seconds > 0 ? Math.max(0, n) / seconds : 0);
  // Refusals and hedges are cumulative only: the first push after a start counts none (no interval figure to spread).
  const refused = restarted ? 0 : refusedOf(cur) - refusedOf(prev);
  const hedges = restarted ? 0 : hedgesOf(cur) - hedgesOf(prev);
  return {
    t: receivedAt,
    qps: per(calls),
    errorsPerSec: per(errors),
    p99Ms: mergedP99(cur, side),
    cpuPercent: cur.cpuPercent,
    rssBytes: Number(cur.rssBytes),
    eventLoopLagMs: cur.eventLoopLagP99Ms,
    refusedPerSec: per(refused),
    admissionLimit: cur.admission?.limit ?? 0,
    ejectedPeers: cur.outliers?.ejectedNow ?? 0,
    hedgesPerSec: per(hedges),
  };
}
