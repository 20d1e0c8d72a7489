// The call option `hedge` overrides the method's default: `false` keeps an
// idempotent call from being hedged, `{ afterMs }` hedges a call whatever the
// node's `calls.hedge` and the method's idempotency. Hedges the retry budget
// refused are counted.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, type GomsError } from "../../src/errors/index.js";
import { BenchService } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet } from "../helpers.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());
const { server, caller, twoQueries, sentWon } = hedgeFixtures(nodes);

describe("the call option hedge", () => {
  it("hedge: false: an idempotent call is not hedged, though its method would be", async () => {
    const slow = await server("slow", 300);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast]);
    assert.deepEqual(await twoQueries(c, { hedge: false }), ["fast", "slow"]);
    assert.deepEqual(sentWon(c), { sent: 0, won: 0 });
  });

  it("hedge: { afterMs } hedges a call on a node with hedging off", async () => {
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast], { calls: { hedge: false } });
    assert.deepEqual(await twoQueries(c, { hedge: { afterMs: 20 } }), ["fast", "fast"]);
    assert.deepEqual(sentWon(c), { sent: 1, won: 1 });
  });

  it("hedge: { afterMs } replaces the method's delay (a shorter one hedges sooner)", async () => {
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    // The method's own delay (60 s) is longer than the calls' deadline: without the option, nothing is hedged.
    const c = await caller([slow, fast], { calls: { hedge: { afterMs: 60_000 } } });
    assert.deepEqual(await twoQueries(c, { hedge: { afterMs: 20 } }), ["fast", "fast"]);
    assert.deepEqual(sentWon(c), { sent: 1, won: 1 });
  });

  it("hedge: { afterMs } hedges a method not declared idempotent (the caller says it may run twice)", async () => {
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast]);
    const bench = c.client(BenchService);
    await Promise.all([bench.echo({}, { timeoutMs: 5000, hedge: { afterMs: 20 } }), bench.echo({}, { timeoutMs: 5000, hedge: { afterMs: 20 } })]);
    assert.deepEqual(sentWon(c), { sent: 1, won: 1 });
    assert.equal(fast.echoes, 2);
  });

  it("a bad afterMs is refused with invalid_argument", async () => {
    const fast = await server("fast", 0);
    const c = await caller([fast]);
    for (const afterMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(c.client(DB).query({}, { hedge: { afterMs } }), (e: GomsError) => e.code === Code.InvalidArgument && e.reason === "GOMS_ERR_INVALID_OPTION");
    }
  });

  it("a hedge the retry budget refuses is counted as refused", async () => {
    const slow = await server("slow", 300);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast], { calls: { retryBudget: { ratio: 0, minPerSecond: 0 } } });
    assert.deepEqual(await twoQueries(c), ["fast", "slow"]);
    const h = c.stats().hedges;
    assert.deepEqual({ sent: h.sent, won: h.won, refused: h.refused }, { sent: 0, won: 0, refused: 1 });
  });
});
