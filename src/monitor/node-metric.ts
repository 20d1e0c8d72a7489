import { Counter, Gauge } from "prom-client";
import type { GomsNode } from "../rpc/node.js";

type Stats = ReturnType<GomsNode["stats"]>;

/** Calls `f` with each node and one group of its stats, read now (at scrape time): the per-node series of a collect(). */
export function eachNode<K extends keyof Stats>(nodes: readonly GomsNode[], group: K): (f: (node: GomsNode, s: Stats[K]) => void) => void {
  return (f) => {
    for (const n of nodes) f(n, n.stats()[group]);
  };
}

/** A metric of `node.stats()[group]`, one series per node (label `node`); with `by`, one per node and value of that label. */
export interface NodeMetricSpec<K extends keyof Stats> {
  name: string;
  help: string;
  /** A second label: `value` then returns the figures by its values, e.g. { won: 3, lost: 1 } for "outcome". */
  by?: string;
  value(s: Stats[K]): number | Record<string, number>;
}

/**
 * Reads `spec.value` of every node at scrape time into `set`. Why one helper:
 * the node-level families (admission, outliers, hedges, streams) differ only
 * in what they read, and each used to spell out the same collect().
 */
function collectInto<K extends keyof Stats>(nodes: readonly GomsNode[], group: K, spec: NodeMetricSpec<K>, set: (labels: Record<string, string>, v: number) => void): void {
  eachNode(nodes, group)((n, s) => {
    const v = spec.value(s);
    if (typeof v === "number") set({ node: n.name }, v);
    else for (const [k, x] of Object.entries(v)) set({ node: n.name, [spec.by!]: k }, x);
  });
}

/** A counter of a cumulative figure of each node (recomputed from the node's own counters at every scrape). */
export function nodeCounter<K extends keyof Stats>(nodes: readonly GomsNode[], group: K, spec: NodeMetricSpec<K>): Counter<string> {
  return new Counter<string>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.by === undefined ? ["node"] : ["node", spec.by],
    registers: [],
    collect() {
      this.reset();
      collectInto(nodes, group, spec, (l, v) => this.inc(l, v));
    },
  });
}

/** A gauge of a current figure of each node. */
export function nodeGauge<K extends keyof Stats>(nodes: readonly GomsNode[], group: K, spec: NodeMetricSpec<K>): Gauge<string> {
  return new Gauge<string>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.by === undefined ? ["node"] : ["node", spec.by],
    registers: [],
    collect() {
      collectInto(nodes, group, spec, (l, v) => this.set(l, v));
    },
  });
}
