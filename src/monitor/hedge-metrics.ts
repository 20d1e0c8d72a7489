import type { Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { nodeCounter } from "./node-metric.js";

/**
 * The hedged requests of the calls each node makes (docs/resilience.md), read
 * from `node.stats().hedges` at scrape time, one series per node and outcome.
 */
export function hedgeMetrics(nodes: readonly GomsNode[]): Metric[] {
  return [
    nodeCounter(nodes, "hedges", {
      name: "goms_hedges_total",
      help: "Hedges of calls since start, by node and outcome: won (the second copy answered first), lost (a second copy was sent, and the first answered first or it failed), refused (due, but the retry budget had none left). Sent = won + lost.",
      by: "outcome",
      value: (h) => ({ won: h.won, lost: h.sent - h.won, refused: h.refused }),
    }),
    nodeCounter(nodes, "hedges", {
      name: "goms_hedges_rescued_total",
      help: "Of the hedges sent, those sent outside the retry budget because the first copy's node was ejected as hung (see docs/resilience.md), by node.",
      value: (h) => h.rescued,
    }),
  ];
}
