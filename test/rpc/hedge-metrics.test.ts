// Hedge counters (sent, won, refused by the retry budget) in the node's
// monitor pushes, the admin console's node summary, and Prometheus /metrics.
// Real nodes on loopback: a caller hedges calls off a slow node onto a fast
// one, then (budget used up) has a hedge refused.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet } from "../helpers.js";
import { sampleValue } from "../monitor/exposition.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());
const { server, caller, monitorAdmin, countersSeen } = hedgeFixtures(nodes);

describe("hedge counters in pushes, the console and /metrics", () => {
  it("a caller's hedges sent, won and refused reach the store, the node summary and goms_hedges_total", async () => {
    const at = await monitorAdmin();
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    // A budget of exactly one retry: the first hedge is sent, the next one refused.
    const c = await caller([slow, fast, { node: at.admin }], { calls: { hedge: { afterMs: 20 }, retryBudget: { ratio: 0, minPerSecond: 1 } } });
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

    const { pushed, summary, metrics } = await countersSeen(c, at);
    assert.deepEqual({ sent: pushed.sent, won: pushed.won, refused: pushed.refused, rescued: pushed.rescued }, { sent: 1n, won: 1n, refused: 1n, rescued: 0n });
    // The refused call waits for its slow node, which is not ejected (outlier detection is off): nothing rescued.
    assert.deepEqual(summary, { sent: 1, won: 1, refused: 1, rescued: 0 });
    const { samples, types } = metrics;
    assert.equal(types.get("goms_hedges_total"), "counter");
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "won" }), 1);
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "lost" }), 0);
    assert.equal(sampleValue(samples, "goms_hedges_total", { node: "caller", outcome: "refused" }), 1);
    assert.equal(sampleValue(samples, "goms_hedges_rescued_total", { node: "caller" }), 0);
  });
});
