// A node's counters as the monitoring path shows them, for tests of any
// group of node.stats(): one push to an admin node's store, that node's
// console summary, and the node's own Prometheus /metrics. Real nodes on
// loopback; what a test starts here closes with its NodeSet.
import assert from "node:assert/strict";
import type { GomsNode } from "../../src/rpc/index.js";
import { MonitorService, type NodeStats } from "../../src/gen/goms/v1/monitor_pb.js";
import type { NodeSummary } from "../../src/admin/api-types.js";
import { nodeSummaries } from "../../src/admin/cluster.js";
import { createCollector, createMetrics, createMetricsServer, createMonitorStore, createMonitoring, type MonitorStore } from "../../src/monitor/index.js";
import type { NodeSet } from "../helpers.js";
import { parseExposition } from "./exposition.js";

export type Exposition = ReturnType<typeof parseExposition>;

export interface MonitorAdmin {
  admin: GomsNode;
  store: MonitorStore;
}

/** An admin node that hosts the monitor store (as `goms admin` does), on loopback. */
export async function monitorAdmin(nodes: NodeSet): Promise<MonitorAdmin> {
  const store = createMonitorStore({ sweepMs: 0 });
  nodes.defer(() => store.close());
  const admin = await nodes.start({ identity: { name: "admin" }, listen: { port: 0 } }, (n) => n.service(MonitorService, store.service()));
  return { admin, store };
}

/** `c`'s stats as one push leaves them in `at`'s store, `at`'s console summary of `c`, and `c`'s /metrics. */
export async function countersSeen(nodes: NodeSet, c: GomsNode, at: MonitorAdmin): Promise<{ pushed: NodeStats; summary: NodeSummary | undefined; metrics: Exposition }> {
  const mon = createMonitoring({ node: c, target: at.admin.name });
  nodes.defer(() => mon.close());
  assert.equal(await mon.pushNow(), true, mon.counters().lastError);
  const pushed = at.store.node(c.name)!.latest;
  const summary = nodeSummaries(at.admin, at.store).find((s) => s.name === c.name);
  const collector = createCollector({ node: c });
  nodes.defer(() => collector.close());
  const server = await createMetricsServer({ registry: createMetrics({ node: c, collector, processMetrics: false }) }).start();
  nodes.defer(() => server.close());
  const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text());
  return { pushed, summary, metrics };
}
