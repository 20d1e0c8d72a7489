import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { codeToString, type Code } from "../errors/code.js";
import type { HttpListen } from "../internal/http/server.js";
import type { GomsNode } from "../rpc/node.js";
import { admissionMetrics } from "./admission-metrics.js";
import { outlierMetrics } from "./outlier-metrics.js";
import { hedgeMetrics } from "./hedge-metrics.js";
import { streamMetrics } from "./stream-metrics.js";
import { BUCKET_BOUNDS_MS } from "./buckets.js";
import { HttpPort } from "./http-port.js";
import type { Collector } from "./collector.js";

export interface MetricsOptions {
  node: GomsNode;
  /** Source of the per-method counters (the same collector the pusher uses). */
  collector: Collector;
  /**
   * Nodes whose admission (goms_admission_*), outlier ejection
   * (goms_outlier_*), hedges (goms_hedges_total) and streams
   * (goms_stream*) are exposed, label
   * `node`: the nodes of this process.
   * Default: `node` alone.
   */
  admissionNodes?: readonly GomsNode[];
  /** Add Node.js process metrics (prom-client collectDefaultMetrics). Default true. */
  processMetrics?: boolean;
}

type CallLabels = "side" | "service" | "method";

interface HistogramValue {
  value: number;
  labels: Partial<Record<CallLabels | "le", string | number>>;
  metricName: string;
}

const DURATION_HELP = "Duration of goms RPC calls, by side (server: served, client: made), service and method.";

/**
 * goms_rpc_duration_seconds, read from the collector's cumulative buckets at
 * scrape time: no per-call work beyond what the collector already does. On
 * hot methods the latencies are sampled and weighted (NodeOptions.callTiming).
 */
class CollectorHistogram extends Histogram<CallLabels> {
  private readonly source: Collector;

  constructor(source: Collector) {
    super({
      name: "goms_rpc_duration_seconds",
      help: DURATION_HELP,
      labelNames: ["side", "service", "method"],
      buckets: BUCKET_BOUNDS_MS.map((ms) => ms / 1000),
      registers: [],
    });
    this.source = source;
  }

  private values(): HistogramValue[] {
    const name = "goms_rpc_duration_seconds";
    const out: HistogramValue[] = [];
    for (const m of this.source.methods()) {
      const base = { side: m.side, service: m.service, method: m.method };
      let acc = 0;
      for (let i = 0; i < BUCKET_BOUNDS_MS.length; i++) {
        acc += m.buckets[i]!;
        out.push({ labels: { ...base, le: BUCKET_BOUNDS_MS[i]! / 1000 }, value: acc, metricName: `${name}_bucket` });
      }
      // With latency sampling on hot methods (NodeOptions.callTiming) the buckets are weighted
      // estimates; _count is their total so the histogram stays consistent. goms_rpc_calls_total is exact.
      out.push({ labels: { ...base, le: "+Inf" }, value: m.timed, metricName: `${name}_bucket` });
      out.push({ labels: base, value: m.sumMs / 1000, metricName: `${name}_sum` });
      out.push({ labels: base, value: m.timed, metricName: `${name}_count` });
    }
    return out;
  }

  override get(): ReturnType<Histogram<CallLabels>["get"]> {
    const data = { name: "goms_rpc_duration_seconds", help: DURATION_HELP, type: "histogram", values: this.values(), aggregator: "sum" };
    // prom-client's typings want its (runtime-less) MetricType enum and forbid the `le` label
    // its own Histogram emits; the shape is exactly what Histogram#get returns.
    return Promise.resolve(data as unknown as Awaited<ReturnType<Histogram<CallLabels>["get"]>>);
  }

  /** prom-client's text output prefers this method over get(). */
  getForPromString(): ReturnType<Histogram<CallLabels>["get"]> {
    return this.get();
  }
}

/**
 * A prom-client Registry (not the global one) with the node's RPC metrics and
 * admission (concurrency limit, admitted and refused calls, queue time), read
 * from the collector and the node at scrape time, plus process metrics.
 */
export function createMetrics(opts: MetricsOptions): Registry {
  const { node, collector } = opts;
  const registry = new Registry();
  registry.registerMetric(
    new Counter<CallLabels | "code">({
      name: "goms_rpc_calls_total",
      help: "goms RPC calls by side, service, method and outcome code (ok or the goms error code name).",
      labelNames: ["side", "service", "method", "code"],
      registers: [],
      collect() {
        this.reset();
        for (const m of collector.methods()) {
          const base = { side: m.side, service: m.service, method: m.method };
          let failed = 0;
          for (const [code, n] of m.errorsByCode()) {
            failed += n;
            this.inc({ ...base, code: codeToString(code as Code) }, n);
          }
          this.inc({ ...base, code: "ok" }, m.calls - failed);
        }
      },
    }),
  );
  registry.registerMetric(new CollectorHistogram(collector));
  registry.registerMetric(
    new Gauge<"side">({
      name: "goms_rpc_in_flight",
      help: "goms RPC calls in flight: served by this node (server) or outstanding to peers (client).",
      labelNames: ["side"],
      registers: [],
      collect() {
        const s = node.stats();
        this.set({ side: "server" }, s.servingCalls);
        this.set({ side: "client" }, s.outgoingCalls);
      },
    }),
  );
  registry.registerMetric(
    new Gauge({
      name: "goms_peers_ready",
      help: "Peers this node dialled that are ready for calls.",
      registers: [],
      collect() {
        this.set(node.stats().peersReady);
      },
    }),
  );
  registry.registerMetric(
    new Gauge({
      name: "goms_server_connections",
      help: "Inbound connections to this node.",
      registers: [],
      collect() {
        this.set(node.stats().serverConnections);
      },
    }),
  );
  registry.registerMetric(
    new Counter({
      name: "goms_rpc_retries_total",
      help: "Idempotent calls retried on another node.",
      registers: [],
      collect() {
        this.reset();
        this.inc(node.stats().retries);
      },
    }),
  );
  const capacityNodes = opts.admissionNodes ?? [node];
  for (const m of [...admissionMetrics(capacityNodes), ...outlierMetrics(capacityNodes), ...hedgeMetrics(capacityNodes), ...streamMetrics(capacityNodes)]) registry.registerMetric(m);
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** A node:http handler answering GET /metrics (any other path: 404). */
export function metricsHandler(registry: Registry, path = "/metrics"): RequestListener {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    if ((q < 0 ? url : url.slice(0, q)) !== path || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType }).end(req.method === "HEAD" ? undefined : body);
      },
      (e: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  };
}

export interface MetricsServerOptions {
  registry: Registry;
  /** Where start() listens: default 127.0.0.1 and a free port (see `port`). */
  listen?: HttpListen;
}

/** Serves a registry on http://host:port/metrics. Create with createMetricsServer(). */
export class MetricsServer extends HttpPort {
  constructor(opts: MetricsServerOptions) {
    super(metricsHandler(opts.registry), opts.listen);
  }
}

/** Creates a /metrics server for `registry`; call start(). */
export function createMetricsServer(opts: MetricsServerOptions): MetricsServer {
  return new MetricsServer(opts);
}
