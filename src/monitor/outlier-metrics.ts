import { Counter, Gauge, type Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { eachNode } from "./admission-metrics.js";

/**
 * The breakers and outlier ejection of the peers each node calls
 * (docs/resilience.md), read from `node.stats().outliers` at scrape time, one
 * series per node (label `node`).
 */
export function outlierMetrics(nodes: readonly GomsNode[]): Metric[] {
  const each = eachNode(nodes, "outliers");
  return [
    new Gauge<"node">({
      name: "goms_outlier_ejected_peers",
      help: "Peers the node has ejected from its routing now (breaker open or half-open).",
      labelNames: ["node"],
      registers: [],
      collect() {
        each((n, o) => this.set({ node: n.name }, o.ejectedNow));
      },
    }),
    new Counter<"node" | "outcome">({
      name: "goms_outlier_ejections_total",
      help: "Ejections of peers since start, by node and outcome: ejected, or capped (prevented by the cap on the share of peers ejected at once).",
      labelNames: ["node", "outcome"],
      registers: [],
      collect() {
        this.reset();
        each((n, o) => {
          this.inc({ node: n.name, outcome: "ejected" }, o.ejections);
          this.inc({ node: n.name, outcome: "capped" }, o.capped);
        });
      },
    }),
    new Counter<"node" | "outcome">({
      name: "goms_outlier_probes_total",
      help: "Probes of ejected peers since start, by node and outcome (answered or failed).",
      labelNames: ["node", "outcome"],
      registers: [],
      collect() {
        this.reset();
        each((n, o) => {
          this.inc({ node: n.name, outcome: "answered" }, o.probes - o.probesFailed);
          this.inc({ node: n.name, outcome: "failed" }, o.probesFailed);
        });
      },
    }),
  ];
}
