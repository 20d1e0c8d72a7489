import { create } from "@bufbuild/protobuf";
import { NodeStatsSchema, type NodeStats } from "../gen/goms/v1/monitor_pb.js";
import type { GomsNode } from "../rpc/node.js";
import { admissionOf, hedgesOf, outliersOf, streamsOf } from "./capacity-stats.js";
import { MethodCounter } from "./method-counter.js";
import { ProcessSampler } from "./process-stats.js";

export interface CollectorOptions {
  /** The node to watch: only its calls are counted (several nodes may share a process). */
  node: GomsNode;
}

type Side = "server" | "client";
type ByService = Map<string, Map<string, MethodCounter>>;

/**
 * Per-node call counters fed by the node's call recorder hook, plus process
 * and connection figures. snapshot() builds one NodeStats and starts a new
 * interval.
 */
export interface Collector {
  /** Every method seen so far (cumulative counters), for exporters. */
  methods(): Iterable<MethodCounter>;
  snapshot(): NodeStats;
  /** Stops recording and the process probes. */
  close(): void;
}

export function createCollector(opts: CollectorOptions): Collector {
  const node = opts.node;
  const server: ByService = new Map();
  const client: ByService = new Map();
  const all: MethodCounter[] = [];
  const proc = new ProcessSampler();
  let lastSnapshot = performance.now();

  const counterFor = (side: Side, table: ByService, service: string, method: string): MethodCounter => {
    let byMethod = table.get(service);
    if (byMethod === undefined) table.set(service, (byMethod = new Map()));
    let m = byMethod.get(method);
    if (m === undefined) {
      m = new MethodCounter(side, service, method);
      byMethod.set(method, m);
      all.push(m);
    }
    return m;
  };
  // The per-call path: two map lookups and a few increments, called directly by the node
  // (GomsNode#addCallRecorder), with no event object.
  const removeRecorder = node.addCallRecorder({
    record(side, service, method, code, ret, durationMs, weight) {
      const table = side === "server" ? server : client;
      const m = table.get(service)?.get(method) ?? counterFor(side, table, service, method);
      m.record(code, ret, durationMs, weight);
    },
  });
  let closed = false;

  return {
    methods: () => all,
    snapshot(): NodeStats {
      const now = performance.now();
      const p = proc.sample();
      const n = node.stats();
      const s = create(NodeStatsSchema, {
        node: node.identity(),
        timeUnixMs: BigInt(Date.now()),
        uptimeMs: BigInt(n.uptimeMs),
        intervalMs: Math.max(0, Math.round(now - lastSnapshot)),
        cpuPercent: p.cpuPercent,
        rssBytes: BigInt(p.rssBytes),
        heapUsedBytes: BigInt(p.heapUsedBytes),
        heapTotalBytes: BigInt(p.heapTotalBytes),
        eventLoopLagP99Ms: p.eventLoopLagP99Ms,
        eventLoopUtilization: p.eventLoopUtilization,
        gcCount: BigInt(p.gcCount),
        gcPauseMs: p.gcPauseMs,
        serverConnections: n.serverConnections,
        peersReady: n.peersReady,
        callsInFlight: n.servingCalls + n.outgoingCalls,
        retries: BigInt(n.retries),
        methods: all.map((m) => m.snapshot()),
        admission: admissionOf(n),
        outliers: outliersOf(n),
        hedges: hedgesOf(n),
        streams: streamsOf(n),
      });
      lastSnapshot = now;
      return s;
    },
    close(): void {
      if (closed) return;
      closed = true;
      removeRecorder();
      proc.close();
    },
  };
}
