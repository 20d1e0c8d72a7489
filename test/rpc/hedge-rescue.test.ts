// A hung node's calls whose hedges the retry budget refused: once the node is
// ejected as hung, they go to another node at once, outside the budget, and
// no call waits for its deadline. Before, they waited there (seen under load
// in hedge-stall.test.ts on Node 24: two calls failed at their 10 s deadline).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { GomsNode } from "../../src/rpc/index.js";
import { MonitorService } from "../../src/gen/goms/v1/monitor_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { nodeSummaries } from "../../src/admin/cluster.js";
import { createCollector, createMetrics, createMetricsServer, createMonitorStore, createMonitoring } from "../../src/monitor/index.js";
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

/**
 * Calls that time out quickly and are never hedged, until `stop()`: the
 * ones round-robin sends to the healthy node keep it answering, which is
 * what tells the detector that the silent node hangs (not this caller).
 */
async function keepAlive(c: GomsNode, stop: () => boolean): Promise<void> {
  const db = c.client(DB);
  while (!stop()) await db.query({ key: "alive" }, { timeoutMs: 100, hedge: false }).catch(() => undefined);
}

describe("the calls stranded on a hung node", () => {
  it("go elsewhere when it is ejected as hung, though the retry budget is empty; the count reaches pushes, the console and /metrics", async () => {
    const store = createMonitorStore({ sweepMs: 0 });
    closers.push(() => store.close());
    const admin = await nodes.start({ identity: { name: "admin" }, listen: { port: 0 } }, (n) => n.service(MonitorService, store.service()));
    const a = await server("a", 0);
    const h = await server("h", 0);
    // The admin node hosts no DB: round-robin alternates a and h.
    const c = await caller([a, h, { node: admin }], {
      calls: {
        hedge: { afterMs: 30 },
        // No budget at all: every hedge is refused, so only the rescue can move a call.
        retryBudget: { ratio: 0, minPerSecond: 0 },
        outlierDetection: { stallMs: 300, consecutiveFailures: 0, failureShare: 0, latencyFactor: 0, overtakenInRow: 0, baseEjectionMs: 60_000 },
      },
    });
    const db = c.client(DB);
    for (let i = 0; i < 4; i++) await db.query({ key: "warm" }, { timeoutMs: 5000 });
    h.delayMs = -1;
    let done = false;
    const alive = keepAlive(c, () => done);
    const failures: unknown[] = [];
    const answeredBy: string[] = [];
    // 6 calls at once: round-robin sends some to the hung node (the keep-alive calls take turns too); their hedges are refused.
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        db.query({ key: `k${i}` }, { timeoutMs: 8000 }).then(
          (r) => answeredBy.push(r.value),
          (e: unknown) => failures.push(e),
        ),
      ),
    );
    done = true;
    await alive;
    assert.deepEqual(failures, []);
    assert.deepEqual(answeredBy, ["a", "a", "a", "a", "a", "a"]);
    const hs = c.stats().hedges;
    assert.ok(hs.refused >= 1, `refused ${hs.refused}`);
    assert.equal(hs.rescued, hs.refused, "every call refused its hedge was rescued");
    assert.equal(hs.rescued, hs.won, "every rescued call was answered by its second copy");
    const hv = c.stats().outliers.peers.find((p) => p.node === "h");
    assert.deepEqual({ state: hv?.state, reason: hv?.reason }, { state: "open", reason: "stalled" });

    const mon = createMonitoring({ node: c, target: "admin" });
    closers.push(() => mon.close());
    assert.equal(await mon.pushNow(), true, mon.counters().lastError);
    assert.equal(store.node("caller")!.latest.hedges!.rescued, BigInt(hs.rescued));
    assert.equal(nodeSummaries(admin, store).find((s) => s.name === "caller")?.hedges?.rescued, hs.rescued);
    const collector = createCollector({ node: c });
    closers.push(() => collector.close());
    const metrics = await createMetricsServer({ registry: createMetrics({ node: c, collector, processMetrics: false }) }).start();
    closers.push(() => metrics.close());
    const { samples, types } = parseExposition(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
    assert.equal(types.get("goms_hedges_rescued_total"), "counter");
    assert.equal(sampleValue(samples, "goms_hedges_rescued_total", { node: "caller" }), hs.rescued);
  });

  it("a call that may not be retried at all (maxRetries 0) stays where it is", async () => {
    const a = await server("a", 0);
    const h = await server("h", 0);
    const c = await caller([a, h], {
      calls: {
        hedge: { afterMs: 30 },
        retryBudget: { ratio: 0, minPerSecond: 0, maxRetries: 0 },
        outlierDetection: { stallMs: 300, consecutiveFailures: 0, failureShare: 0, latencyFactor: 0, overtakenInRow: 0, baseEjectionMs: 60_000 },
      },
    });
    const db = c.client(DB);
    for (let i = 0; i < 4; i++) await db.query({ key: "warm" }, { timeoutMs: 5000 });
    h.delayMs = -1;
    let done = false;
    const alive = keepAlive(c, () => done);
    const results = await Promise.allSettled([db.query({ key: "x" }, { timeoutMs: 1500 }), db.query({ key: "y" }, { timeoutMs: 1500 })]);
    done = true;
    await alive;
    // One of the two went to the hung node and, with no retries allowed, waited for its deadline.
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    assert.equal(c.stats().hedges.rescued, 0);
    assert.equal(c.stats().outliers.peers.find((p) => p.node === "h")?.reason, "stalled");
  });
});
