import type { NodeStats } from "../gen/goms/v1/monitor_pb.js";

/** One node as the admin sees it. */
export interface NodeView {
  name: string;
  latest: NodeStats;
  /** Unix ms when the last push arrived. */
  receivedAt: number;
  /** No push for more than staleAfterMs (default 3 intervals). */
  stale: boolean;
}

/** One point of a node's rolling series (computed from consecutive pushes). */
export interface SeriesPoint {
  /** Unix ms. */
  t: number;
  qps: number;
  errorsPerSec: number;
  p99Ms: number;
  cpuPercent: number;
  rssBytes: number;
  eventLoopLagMs: number;
  /** Calls the node refused before their handler ran (over its limit or by deadline), per second. */
  refusedPerSec: number;
  /** The node's adaptive concurrency limit at the push (0: off, or not reported). */
  admissionLimit: number;
  /** Peers this node had ejected from its routing at the push. */
  ejectedPeers: number;
  /** Second copies (hedges) the calls this node makes sent, per second. */
  hedgesPerSec: number;
}

export type MonitorEvent = { type: "stats"; node: string; point: SeriesPoint } | { type: "stale"; node: string } | { type: "fresh"; node: string };

/**
 * What the admin console reads. The monitor module implements it
 * (createMonitorStore); the admin module consumes it.
 */
export interface MonitorStoreView {
  nodes(): NodeView[];
  node(name: string): NodeView | undefined;
  /** Rolling window, oldest first (>= 1 h at 5 s resolution). */
  series(name: string): SeriesPoint[];
  /** Live updates; returns an unsubscribe function. */
  subscribe(fn: (ev: MonitorEvent) => void): () => void;
}
