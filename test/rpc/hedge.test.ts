// Hedged requests over TCP: a call of an idempotent method with no answer
// after the hedge delay gets a second copy on another node; the first answer
// wins and the other copy is cancelled on the wire (its handler's ctx.signal
// fires on the node that ran it).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, type GomsError } from "../../src/errors/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { BenchService } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { MethodHedge, type Hedgeable } from "../../src/rpc/hedge.js";
import { NodeSet, until } from "../helpers.js";
import { hedgeFixtures } from "./hedge-fixtures.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());
const { server, caller, twoQueries, sentWon } = hedgeFixtures(nodes);

describe("hedged requests", () => {
  it("a call with no answer after afterMs goes to another node; its answer wins and the slow copy is cancelled", async () => {
    const slow = await server("slow", 3000);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast]);
    assert.deepEqual(await twoQueries(c), ["fast", "fast"]);
    assert.deepEqual(sentWon(c), { sent: 1, won: 1 });
    await until(() => slow.aborted === 1, 2000, "the slow copy's handler to see its CANCEL");
    assert.equal(slow.queries, 1);
    assert.equal(fast.queries, 2);
    assert.deepEqual(c.stats().hedges.delays, [{ method: "goms.examples.v1.DB/Query", delayMs: 30 }]);
  });

  it("when the first copy answers first, the hedge copy is cancelled", async () => {
    const a = await server("a", 150);
    const b = await server("b", 3000);
    const c = await caller([a, b]);
    // The call sent to a answers at 150 ms, before its hedge on b; the one sent to b is hedged on a, which wins.
    assert.deepEqual(await twoQueries(c), ["a", "a"]);
    assert.deepEqual(sentWon(c), { sent: 2, won: 1 });
    await until(() => b.aborted === 2, 2000, "both copies on b to be cancelled");
    assert.equal(a.aborted, 0);
  });

  it("a method not declared idempotent is never hedged", async () => {
    const slow = await server("slow", 300);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast]);
    const echo = c.client(BenchService);
    await Promise.all([echo.echo({}, { timeoutMs: 5000 }), echo.echo({}, { timeoutMs: 5000 })]);
    assert.equal(c.stats().hedges.sent, 0);
    assert.equal(slow.echoes, 1);
    assert.equal(fast.echoes, 1);
    assert.equal(slow.aborted, 0);
  });

  it("with the retry budget used up, no hedge is sent: hedging never adds load past the budget", async () => {
    const slow = await server("slow", 300);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast], { calls: { hedge: { afterMs: 30 }, outlierDetection: false, retryBudget: { ratio: 0, minPerSecond: 0 } } });
    assert.deepEqual(await twoQueries(c), ["fast", "slow"]);
    assert.equal(c.stats().hedges.sent, 0);
    assert.equal(slow.aborted + fast.aborted, 0);
  });

  it("hedging off (calls.hedge: false): the slow node answers", async () => {
    const slow = await server("slow", 300);
    const fast = await server("fast", 0);
    const c = await caller([slow, fast], { calls: { hedge: false, outlierDetection: false } });
    assert.deepEqual(await twoQueries(c), ["fast", "slow"]);
    assert.equal(c.stats().hedges.sent, 0);
  });

  it("a hedge never goes to an ejected node", async () => {
    const slow = await server("slow", 300);
    const hung = await server("hung", -1);
    const c = await caller([slow, hung], {
      calls: { hedge: { afterMs: 30 }, outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 60_000, stallMs: 0, failureShare: 0, latencyFactor: 0 } },
    });
    const db = c.client(DB);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(db.query({}, { node: "hung", timeoutMs: 50 }), (e: GomsError) => e.code === Code.DeadlineExceeded);
    }
    assert.equal(c.stats().outliers.peers.find((p) => p.node === "hung")?.state, "open");
    hung.delayMs = 0;
    // Routed to slow (hung is ejected); at its hedge time the only other node is ejected: no hedge.
    const r = await db.query({ key: "x" }, { timeoutMs: 5000 });
    assert.equal(r.value, "slow");
    assert.equal(c.stats().hedges.sent, 0);
  });
});

describe("MethodHedge", () => {
  it("uses one timer for many calls waiting for their hedge time, and hedges the due ones in order", async () => {
    const m = new MethodHedge({ afterMs: 20 });
    const realSetTimeout = globalThis.setTimeout;
    let timers = 0;
    const counting = ((...args: Parameters<typeof setTimeout>) => {
      timers++;
      return realSetTimeout(...args);
    }) as typeof setTimeout;
    const due: number[] = [];
    globalThis.setTimeout = counting;
    try {
      const now = Date.now();
      for (let i = 0; i < 1000; i++) {
        const c: Hedgeable = { due: now + m.delay()!, hedgeNext: undefined, hedgeDue: () => void due.push(i) };
        m.add(c);
      }
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    assert.equal(timers, 1, "one timer armed for 1000 calls");
    await until(() => due.length === 1000, 2000, "every call due");
    assert.deepEqual(due.slice(0, 5), [0, 1, 2, 3, 4]);
  });

  it("a call queued while the timer's check is pending does not hold back the calls due before it", async () => {
    const m = new MethodHedge({ afterMs: 5 });
    const now = Date.now();
    const fired: string[] = [];
    let bAt = 0;
    const call = (name: string, due: number, f: () => void = () => undefined): Hedgeable => ({ due, hedgeNext: undefined, hedgeDue: () => (fired.push(name), f()) });
    const cDue = now + 5000;
    m.add(call("a", now + 5));
    m.add(call("b", now + 40, () => (bAt = Date.now())));
    // Runs in the same timers phase as the queue's timer, after it: between its firing and its check.
    setTimeout(() => m.add(call("c", cDue)), now + 5 - Date.now() + 1);
    await until(() => fired.includes("b"), 10_000, "b hedged");
    m.stop();
    assert.deepEqual(fired, ["a", "b"]);
    assert.ok(bAt < cDue, "b was hedged at its own time, not at c's");
  });

  it("with percentile p95, the delay follows the method's observed p95 (at least afterMs), once it has samples", () => {
    const m = new MethodHedge({ percentile: "p95" });
    assert.equal(m.delay(), undefined, "no samples: not hedged");
    // Latencies 1..100 ms in a fixed shuffled order, many times over.
    let x = 7;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 37 + 11) % 101;
      m.observe(x === 0 ? 1 : x);
    }
    const d = m.delay()!;
    assert.ok(d >= 85 && d <= 100, `p95 of 1..100 estimated as ${d}`);
    const floored = new MethodHedge({ percentile: "p95", afterMs: 500 });
    for (let i = 0; i < 100; i++) floored.observe(10);
    assert.equal(floored.delay(), 500);
  });
});
