import { create } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { MethodStatsSchema, NodeStatsSchema, type MethodStats, type NodeStats } from "../../src/gen/goms/v1/monitor_pb.js";

export interface MethodInit {
  side?: "server" | "client";
  method?: string;
  calls: number;
  errors?: number;
  intervalCalls?: number;
  /** Interval bucket counts (16). */
  buckets?: number[];
  p99?: number;
}

export function methodStats(m: MethodInit): MethodStats {
  return create(MethodStatsSchema, {
    service: "svc.S",
    method: m.method ?? "M",
    side: m.side ?? "server",
    calls: BigInt(m.calls),
    errorsByCode: m.errors ? { 14: BigInt(m.errors) } : {},
    intervalCalls: BigInt(m.intervalCalls ?? 0),
    intervalBuckets: (m.buckets ?? new Array<number>(16).fill(0)).map((n) => BigInt(n)),
    p99Ms: m.p99 ?? 0,
  });
}

export function nodeStats(name: string, o: { t: number; uptime: number; interval?: number; methods?: MethodInit[]; cpu?: number; rss?: number; lag?: number }): NodeStats {
  return create(NodeStatsSchema, {
    node: create(NodeIdentitySchema, { name }),
    timeUnixMs: BigInt(o.t),
    uptimeMs: BigInt(o.uptime),
    intervalMs: o.interval ?? 5000,
    cpuPercent: o.cpu ?? 0,
    rssBytes: BigInt(o.rss ?? 0),
    eventLoopLagP99Ms: o.lag ?? 0,
    methods: (o.methods ?? []).map(methodStats),
  });
}

/** 16 bucket counts with `n` calls in bucket `i`. */
export function bucketsWith(...pairs: Array<[number, number]>): number[] {
  const b = new Array<number>(16).fill(0);
  for (const [i, n] of pairs) b[i] = n;
  return b;
}
