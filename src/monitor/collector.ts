import { create } from "@bufbuild/protobuf";
import { NodeStatsSchema, type NodeStats } from "../gen/goms/v1/monitor_pb.js";
import { channels, type CallEvent } from "../rpc/diagnostics.js";
import type { GomsNode } from "../rpc/node.js";
import { MethodCounter } from "./method-counter.js";
import { ProcessSampler } from "./process-stats.js";

export interface CollectorOptions {
  /** The node to watch: only its CallEvents are counted (several nodes may share a process). */
  node: GomsNode;
}

type Side = "server" | "client";
type ByService = Map<string, Map<string, MethodCounter>>;

/**
 * Per-node call counters fed by the goms diagnostics channels, plus process
 * and connection figures. snapshot() builds one NodeStats and starts a new
 * interval.
 */
export interface Collector {
  /** Every method seen so far (cumulative counters), for exporters. */
  methods(): Iterable<MethodCounter>;
  snapshot(): NodeStats;
  /** Unsubscribes from the channels and stops the process probes. */
  close(): void;
}

export function createCollector(opts: CollectorOptions): Collector {
  const node = opts.node;
  const name = node.name;
  const server: ByService = new Map();
  const client: ByService = new Map();
  const all: MethodCounter[] = [];
  const proc = new ProcessSampler();
  let lastSnapshot = performance.now();

  const counterFor = (side: Side, table: ByService, ev: CallEvent): MethodCounter => {
    let byMethod = table.get(ev.service);
    if (byMethod === undefined) table.set(ev.service, (byMethod = new Map()));
    let m = byMethod.get(ev.method);
    if (m === undefined) {
      m = new MethodCounter(side, ev.service, ev.method);
      byMethod.set(ev.method, m);
      all.push(m);
    }
    return m;
  };
  // The per-call path: a name check, two map lookups, a few increments.
  const onServer = (msg: unknown): void => {
    const ev = msg as CallEvent;
    if (ev.node !== name) return;
    const m = server.get(ev.service)?.get(ev.method) ?? counterFor("server", server, ev);
    m.record(ev.code, ev.ret, ev.durationMs);
  };
  const onClient = (msg: unknown): void => {
    const ev = msg as CallEvent;
    if (ev.node !== name) return;
    const m = client.get(ev.service)?.get(ev.method) ?? counterFor("client", client, ev);
    m.record(ev.code, ev.ret, ev.durationMs);
  };
  channels.server.subscribe(onServer);
  channels.client.subscribe(onClient);
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
      });
      lastSnapshot = now;
      return s;
    },
    close(): void {
      if (closed) return;
      closed = true;
      channels.server.unsubscribe(onServer);
      channels.client.unsubscribe(onClient);
      proc.close();
    },
  };
}
