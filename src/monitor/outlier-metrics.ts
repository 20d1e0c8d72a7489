import type { Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { nodeCounter, nodeGauge } from "./node-metric.js";

/**
 * The breakers and outlier ejection of the peers each node calls
 * (docs/resilience.md), read from `node.stats().outliers` at scrape time, one
 * series per node (label `node`).
 */
export function outlierMetrics(nodes: readonly GomsNode[]): Metric[] {
  return [
    nodeGauge(nodes, "outliers", {
      name: "goms_outlier_ejected_peers",
      help: "Peers the node has ejected from its routing now (breaker open or half-open).",
      value: (o) => o.ejectedNow,
    }),
    nodeCounter(nodes, "outliers", {
      name: "goms_outlier_ejections_total",
      help: "Ejections of peers since start, by node and outcome: ejected, or capped (prevented by the cap on the share of peers ejected at once).",
      by: "outcome",
      value: (o) => ({ ejected: o.ejections, capped: o.capped }),
    }),
    nodeCounter(nodes, "outliers", {
      name: "goms_outlier_probes_total",
      help: "Probes of ejected peers since start, by node and outcome (answered or failed).",
      by: "outcome",
      value: (o) => ({ answered: o.probes - o.probesFailed, failed: o.probesFailed }),
    }),
  ];
}
