// Hedge counters (sent, won, refused by the retry budget) in the node's
// monitor pushes, the admin console's node summary, and Prometheus /metrics.
// Real nodes on loopback: a caller hedges calls off a slow node onto a fast
// one, then (budget used up) has a hedge refused.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { MonitorService } from "../../src/gen/goms/v1/monitor_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { nodeSummaries } from "../../src/admin/cluster.js";
import { createCollector, createMetrics, createMetricsServer, createMonitorStore, createMonitoring, type Collector } from "../../src/monitor/index.js";
import { NodeSet } from "../helpers.js";
import { parseExposition, sampleValue } from "../monitor/exposition.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await nodes.closeAll();
});
const { server, caller } = hedgeFixtures(nodes);

describe("hedge counters in pushes, the console and /metrics", () => {
  it("a caller's hedges sent, won and refused reach the store, the node summary and goms_hedges_total", async () => {
    const store = createMonitorStore({ sweepMs: 0 });
    closers.push(() => store.close());
    const admin = await nodes.start({ identity: { name: "admin" }, listen: { port: 0 } }, (n) => n.service(MonitorService, store.service()));
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    // A budget of exactly one retry: the first hedge is sent, the next one refused.
    const c = await caller([slow, fast, { node: admin }], { calls: { hedge: { afterMs: 20 }, retryBudget: { ratio: 0, minPerSecond: 1 } } });
    const db = c.client(DB);
    const query = (node: string) => db.query({ key: node }, { timeoutMs: 10_000 });
    // Round-robin sends these to slow and fast (admin hosts no DB): the one on slow is hedged on fast and wins.
    const first = await Promise.all([query("a"), query("b")]);
    assert.deepEqual(first.map((r) => r.value).sort(), ["fast", "fast"]);
    // Budget used up: the next call that lands on slow waits for it; its hedge is refused.
    const second = await Promise.all([query("c"), query("d")]);
    assert.deepEqual(second.map((r) => r.value).sort(), ["fast", "slow"]);
    const h = c.stats().hedges;
    assert.deepEqual({ sent: h.sent, won: h.won, refused: h.refused }, { sent: 1, won: 1, refused: 1 });

    const mon = createMonitoring({ node: c, target: "admin" });
    closers.push(() => mon.close());
    assert.equal(await mon.pushNow(), true, mon.counters().lastError);
    const pushed = store.node("caller")!.latest.hedges!;
    assert.deepEqual({ sent: pushed.sent, won: pushed.won, refused: pushed.refused, rescued: pushed.rescued }, { sent: 1n, won: 1n, refused: 1n, rescued: 0n });
    const summary = nodeSummaries(admin, store).find((s) => s.name === "caller");
    // The refused call waits for its slow node, which is not ejected (outlier detection is off): nothing rescued.
    assert.deepEqual(summary?.hedges, { sent: 1, won: 1, refused: 1, rescued: 0 });

    const collector: Collector = createCollector({ node: c });
    closers.push(() => collector.close());
    const metrics = await createMetricsServer({ registry: createMetrics({ node: c, collector, processMetrics: false }) }).start();
    closers.push(() => metrics.close());
    const { samples, types } = parseExposition(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
    assert.equal(types.get("goms_hedges_total"), "counter");
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "won" }), 1);
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "lost" }), 0);
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "refused" }), 1);
  });
});
