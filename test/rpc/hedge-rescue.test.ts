// A hung node's calls whose hedges the retry budget refused: once the node is
// ejected as hung, they go to another node at once, outside the budget, and
// no call waits for its deadline. Before, they waited there (seen under load
// in hedge-stall.test.ts on Node 24: two calls failed at their 10 s deadline).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { GomsNode, RetryBudgetOptions } from "../../src/rpc/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet } from "../helpers.js";
import { sampleValue } from "../monitor/exposition.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());
const { server, caller, monitorAdmin, countersSeen } = hedgeFixtures(nodes);

/**
 * A caller of nodes "a" and "h" (plus `extra` peers that host no DB, so
 * round-robin alternates a and h), hedging after 30 ms with the retry budget
 * `budget`, and ejecting a node silent for 300 ms as hung; "h" hangs after a
 * few calls. `whileAlive(fn)` runs `fn` while calls that time out quickly and
 * are never hedged keep going: those round-robin sends to "a" keep it
 * answering, which is what tells the detector that "h" hangs (not the caller).
 */
async function hungNode(budget: Partial<RetryBudgetOptions>, extra: { node: GomsNode }[] = []) {
  const a = await server("a", 0);
  const h = await server("h", 0);
  const c = await caller([a, h, ...extra], {
    calls: {
      hedge: { afterMs: 30 },
      retryBudget: budget,
      outlierDetection: { stallMs: 300, consecutiveFailures: 0, failureShare: 0, latencyFactor: 0, overtakenInRow: 0, baseEjectionMs: 60_000 },
    },
  });
  const db = c.client(DB);
  for (let i = 0; i < 4; i++) await db.query({ key: "warm" }, { timeoutMs: 5000 });
  h.delayMs = -1;
  async function whileAlive<T>(fn: () => Promise<T>): Promise<T> {
    let done = false;
    const alive = (async () => {
      while (!done) await db.query({ key: "alive" }, { timeoutMs: 100, hedge: false }).catch(() => undefined);
    })();
    try {
      return await fn();
    } finally {
      done = true;
      await alive;
    }
  }
  const hState = () => {
    const hv = c.stats().outliers.peers.find((p) => p.node === "h");
    return { state: hv?.state, reason: hv?.reason };
  };
  return { c, db, whileAlive, hState };
}

describe("the calls stranded on a hung node", () => {
  it("go elsewhere when it is ejected as hung, though the retry budget is empty; the count reaches pushes, the console and /metrics", async () => {
    const at = await monitorAdmin();
    // No budget at all: every hedge is refused, so only the rescue can move a call.
    const { c, db, whileAlive, hState } = await hungNode({ ratio: 0, minPerSecond: 0 }, [{ node: at.admin }]);
    // 6 calls at once: round-robin sends some to the hung node (the keep-alive calls take turns too); their hedges are refused.
    const results = await whileAlive(() => Promise.allSettled(Array.from({ length: 6 }, (_, i) => db.query({ key: `k${i}` }, { timeoutMs: 8000 }))));
    assert.deepEqual(
      results.map((r) => (r.status === "fulfilled" ? r.value.value : String(r.reason))),
      ["a", "a", "a", "a", "a", "a"],
    );
    const hs = c.stats().hedges;
    assert.ok(hs.refused >= 1, `refused ${hs.refused}`);
    assert.equal(hs.rescued, hs.refused, "every call refused its hedge was rescued");
    assert.equal(hs.rescued, hs.won, "every rescued call was answered by its second copy");
    assert.deepEqual(hState(), { state: "open", reason: "stalled" });

    const { pushed, summary, metrics } = await countersSeen(c, at);
    assert.equal(pushed.rescued, BigInt(hs.rescued));
    assert.equal(summary?.rescued, hs.rescued);
    assert.equal(metrics.types.get("goms_hedges_rescued_total"), "counter");
    assert.equal(sampleValue(metrics.samples, "goms_hedges_rescued_total", { node: "caller" }), hs.rescued);
  });

  it("a call that may not be retried at all (maxRetries 0) stays where it is", async () => {
    const { c, db, whileAlive, hState } = await hungNode({ ratio: 0, minPerSecond: 0, maxRetries: 0 });
    const results = await whileAlive(() => Promise.allSettled([db.query({ key: "x" }, { timeoutMs: 1500 }), db.query({ key: "y" }, { timeoutMs: 1500 })]));
    // One of the two went to the hung node and, with no retries allowed, waited for its deadline.
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    assert.equal(c.stats().hedges.rescued, 0);
    assert.equal(hState().reason, "stalled");
  });
});
