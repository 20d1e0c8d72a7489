import { Counter, Gauge, type Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";

type Stats = ReturnType<GomsNode["stats"]>;

/** Calls `f` with each node and one group of its stats, read now (at scrape time): the per-node series of a collect(). */
export function eachNode<K extends keyof Stats>(nodes: readonly GomsNode[], group: K): (f: (node: GomsNode, s: Stats[K]) => void) => void {
  return (f) => {
    for (const n of nodes) f(n, n.stats()[group]);
  };
}

/**
 * The admission of served calls (adaptive concurrency limit and
 * deadline-aware admission, docs/resilience.md), read from
 * `node.stats().admission` at scrape time, one series per node (label
 * `node`: several nodes may share a process, as in the demo).
 */
export function admissionMetrics(nodes: readonly GomsNode[]): Metric[] {
  const each = eachNode(nodes, "admission");
  return [
    new Counter<"node">({
      name: "goms_admission_admitted_total",
      help: "Calls admitted to run their handler, by node.",
      labelNames: ["node"],
      registers: [],
      collect() {
        this.reset();
        each((n, a) => this.inc({ node: n.name }, a.admitted));
      },
    }),
    new Counter<"node" | "reason">({
      name: "goms_admission_refused_total",
      help: "Calls refused before their handler ran, by node and reason: limit (over the concurrency limit, retry elsewhere) or deadline (deadline passed or shorter than a typical run).",
      labelNames: ["node", "reason"],
      registers: [],
      collect() {
        this.reset();
        each((n, a) => {
          this.inc({ node: n.name, reason: "limit" }, a.refusedLimit);
          this.inc({ node: n.name, reason: "deadline" }, a.refusedDeadline);
        });
      },
    }),
    new Gauge<"node">({
      name: "goms_admission_limit",
      help: "The node's adaptive concurrency limit now (0 when the limiter is off).",
      labelNames: ["node"],
      registers: [],
      collect() {
        each((n, a) => this.set({ node: n.name }, a.limit));
      },
    }),
    new Gauge<"node">({
      name: "goms_admission_inflight",
      help: "Calls counted against the node's concurrency limit now.",
      labelNames: ["node"],
      registers: [],
      collect() {
        each((n, a) => this.set({ node: n.name }, a.inflight));
      },
    }),
    new Gauge<"node">({
      name: "goms_admission_queued",
      help: "Calls waiting in the node's admission queue now (over the concurrency limit, waiting for room).",
      labelNames: ["node"],
      registers: [],
      collect() {
        each((n, a) => this.set({ node: n.name }, a.queued));
      },
    }),
    new Counter<"node">({
      name: "goms_admission_queue_seconds_total",
      help: "Total time admitted calls waited in the node before their handler ran; divide its rate by the rate of goms_admission_admitted_total for the mean queue time.",
      labelNames: ["node"],
      registers: [],
      collect() {
        this.reset();
        each((n, a) => this.inc({ node: n.name }, a.queueMsTotal / 1000));
      },
    }),
    new Gauge<"node">({
      name: "goms_admission_baseline_seconds",
      help: "The handlers' typical run time the concurrency limiter compares latency with (0 before it measured any).",
      labelNames: ["node"],
      registers: [],
      collect() {
        each((n, a) => this.set({ node: n.name }, a.baselineMs / 1000));
      },
    }),
  ];
}
