import type { Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { nodeCounter, nodeGauge } from "./node-metric.js";

/**
 * The admission of served calls (adaptive concurrency limit and
 * deadline-aware admission, docs/resilience.md), read from
 * `node.stats().admission` at scrape time, one series per node (label
 * `node`: several nodes may share a process, as in the demo).
 */
export function admissionMetrics(nodes: readonly GomsNode[]): Metric[] {
  return [
    nodeCounter(nodes, "admission", { name: "goms_admission_admitted_total", help: "Calls admitted to run their handler, by node.", value: (a) => a.admitted }),
    nodeCounter(nodes, "admission", {
      name: "goms_admission_refused_total",
      help: "Calls refused before their handler ran, by node and reason: limit (over the concurrency limit, retry elsewhere) or deadline (deadline passed or shorter than a typical run).",
      by: "reason",
      value: (a) => ({ limit: a.refusedLimit, deadline: a.refusedDeadline }),
    }),
    nodeGauge(nodes, "admission", { name: "goms_admission_limit", help: "The node's adaptive concurrency limit now (0 when the limiter is off).", value: (a) => a.limit }),
    nodeGauge(nodes, "admission", { name: "goms_admission_inflight", help: "Calls counted against the node's concurrency limit now.", value: (a) => a.inflight }),
    nodeGauge(nodes, "admission", {
      name: "goms_admission_queued",
      help: "Calls waiting in the node's admission queue now (over the concurrency limit, waiting for room).",
      value: (a) => a.queued,
    }),
    nodeCounter(nodes, "admission", {
      name: "goms_admission_queue_seconds_total",
      help: "Total time admitted calls waited in the node before their handler ran; divide its rate by the rate of goms_admission_admitted_total for the mean queue time.",
      value: (a) => a.queueMsTotal / 1000,
    }),
    nodeGauge(nodes, "admission", {
      name: "goms_admission_baseline_seconds",
      help: "The handlers' typical run time the concurrency limiter compares latency with (0 before it measured any).",
      value: (a) => a.baselineMs / 1000,
    }),
  ];
}
