// A node that stops answering while its siblings answer: its calls lose to
// their hedges, so it is ejected within a few of the method's p99 (long
// before `stallMs`), no call fails, and the hedge delay (the method's p95)
// is not dragged up by the calls of the node that answers nothing.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { GomsNode } from "../../src/rpc/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet } from "../helpers.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());
const { server, caller } = hedgeFixtures(nodes);

/** `n` calls, 8 at a time, until `stop()`; returns the failures. */
async function load(c: GomsNode, n: number, stop: () => boolean = () => false): Promise<unknown[]> {
  const db = c.client(DB);
  const failures: unknown[] = [];
  let left = n;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0 && !stop()) await db.query({ key: "k" }, { timeoutMs: 10_000 }).catch((e: unknown) => failures.push(e));
    }),
  );
  return failures;
}

const delayOf = (c: GomsNode) => c.stats().hedges.delays.find((d) => d.method === "goms.examples.v1.DB/Query")?.delayMs;

describe("a hung node under hedged calls", () => {
  it("is ejected as stalled by its calls overtaken by hedges, with stallMs far away, and no call fails", async () => {
    const a = await server("a", 0);
    const b = await server("b", 0);
    const h = await server("h", 0);
    // Only the overtaken-by-hedges rule can eject: the other rules are off or a minute away.
    const c = await caller([a, b, h], {
      calls: { hedge: { percentile: "p95" }, outlierDetection: { stallMs: 60_000, consecutiveFailures: 0, failureShare: 0, latencyFactor: 0, baseEjectionMs: 60_000 } },
    });
    assert.deepEqual(await load(c, 400), []);
    assert.notEqual(delayOf(c), undefined, "the method has a hedge delay");
    h.delayMs = -1;
    const ejected = () => c.stats().outliers.ejectedNow > 0;
    assert.deepEqual(await load(c, 20_000, ejected), []);
    const o = c.stats().outliers;
    assert.equal(o.ejections, 1);
    const hv = o.peers.find((p) => p.node === "h");
    assert.deepEqual({ state: hv?.state, reason: hv?.reason }, { state: "open", reason: "stalled" });
    assert.ok(c.stats().hedges.won > 0);
  });

  it("the hedge delay stays near the healthy nodes' p95 while one node answers nothing", async () => {
    const a = await server("a", 2);
    const b = await server("b", 2);
    const h = await server("h", 2);
    // Outlier detection off: the hung node keeps getting a third of the calls, each rescued by its hedge
    // (a budget for that many: with the default 10%, most would wait for their deadline).
    const c = await caller([a, b, h], { calls: { hedge: { percentile: "p95" }, outlierDetection: false, retryBudget: { ratio: 0.6 } } });
    assert.deepEqual(await load(c, 400), []);
    const before = delayOf(c)!;
    h.delayMs = -1;
    assert.deepEqual(await load(c, 900), []);
    const after = delayOf(c)!;
    assert.ok(c.stats().hedges.won >= 200, `hedges won ${c.stats().hedges.won}`);
    // Counting the hung node's calls (a third, all above the estimate) would multiply it many times over.
    assert.ok(after <= 3 * before, `hedge delay ${before} ms before the hang, ${after} ms after 900 calls`);
  });
});
