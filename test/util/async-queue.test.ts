import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import fc from "fast-check";
import { Code, GomsError } from "../../src/errors/index.js";
import { AsyncQueue, consumerTooSlow } from "../../src/internal/util/async-queue.js";

type Op = { op: "push"; v: number } | { op: "next" } | { op: "end" } | { op: "fail"; tag: string } | { op: "stop" };
type Outcome = { value: number } | "done" | { error: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("push" as const), v: fc.integer({ min: 0, max: 999 }) }) },
  { weight: 6, arbitrary: fc.constant({ op: "next" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "end" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("fail" as const), tag: fc.constantFrom("e1", "e2") }) },
  { weight: 1, arbitrary: fc.constant({ op: "stop" as const }) },
);

/** The specification, written plainly over an array: what every next() call must settle with. */
class Model {
  items: number[] = [];
  /** Indexes (into outcomes) of next() calls still waiting. */
  waiting: number[] = [];
  outcomes: (Outcome | undefined)[] = [];
  closed = false;
  finished = false;
  error: string | undefined;
  closes = 0;

  constructor(readonly limit: number) {}

  push(v: number): boolean {
    if (this.closed) return false;
    const w = this.waiting.shift();
    if (w !== undefined) {
      this.outcomes[w] = { value: v };
      return true;
    }
    if (this.items.length >= this.limit) return false;
    this.items.push(v);
    return true;
  }

  next(): void {
    const i = this.outcomes.length;
    this.outcomes.push(undefined);
    if (this.finished) this.outcomes[i] = "done";
    else if (this.items.length > 0) this.outcomes[i] = { value: this.items.shift() as number };
    else if (this.closed) this.outcomes[i] = this.takeEnd();
    else this.waiting.push(i);
  }

  close(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closes++;
    this.error = error;
    if (this.items.length === 0) for (const w of this.waiting.splice(0)) this.outcomes[w] = this.finished ? "done" : this.takeEnd();
  }

  stop(): void {
    if (!this.closed) this.closes++;
    this.closed = true;
    if (this.finished) return;
    this.finished = true;
    this.items = [];
    this.error = undefined;
    for (const w of this.waiting.splice(0)) this.outcomes[w] = "done";
  }

  private takeEnd(): Outcome {
    this.finished = true;
    const e = this.error;
    this.error = undefined;
    return e === undefined ? "done" : { error: e };
  }
}

function settle(p: Promise<IteratorResult<number>>, out: (Outcome | undefined)[], i: number): void {
  out[i] = undefined;
  p.then(
    (r) => (out[i] = r.done === true ? "done" : { value: r.value }),
    (e: unknown) => (out[i] = { error: (e as Error).message }),
  );
}

test("AsyncQueue matches the array model (push, next, end, fail, stop, limit)", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), async (ops, limit) => {
      let closes = 0;
      const q = new AsyncQueue<number>({ limit, onClose: () => closes++ });
      const m = new Model(limit);
      const got: (Outcome | undefined)[] = [];
      for (const o of ops) {
        switch (o.op) {
          case "push":
            assert.equal(q.push(o.v), m.push(o.v), "push result");
            break;
          case "next":
            settle(q.next(), got, m.outcomes.length);
            m.next();
            break;
          case "end":
            q.end();
            m.close();
            break;
          case "fail":
            q.fail(new Error(o.tag));
            m.close(o.tag);
            break;
          case "stop":
            q.stop();
            m.stop();
            break;
        }
        assert.equal(q.length, m.items.length, "length");
        assert.equal(q.closed, m.closed, "closed");
        // Let settled promises report before comparing.
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(got, m.outcomes, "next() outcomes");
      }
      assert.equal(closes, m.closes, "onClose runs once, when the queue closes");
    }),
    { numRuns: 300 },
  );
});

describe("AsyncQueue", () => {
  it("fail() is delivered after the queued items, once", async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.push(2);
    q.fail(new GomsError("boom", Code.Unavailable));
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const v of q) seen.push(v);
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.Unavailable,
    );
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(await q.next(), { done: true, value: undefined });
  });

  it("a waiting next() gets the error when fail() comes while it waits", async () => {
    const q = new AsyncQueue<number>();
    const p = q.next();
    q.fail(new Error("late"));
    await assert.rejects(p, /late/);
  });

  it("end() finishes after the queued items", async () => {
    const q = new AsyncQueue<string>();
    q.push("a");
    q.end();
    assert.equal(q.push("b"), false, "push after end is refused");
    const seen: string[] = [];
    for await (const v of q) seen.push(v);
    assert.deepEqual(seen, ["a"]);
  });

  it("stop() ends now, drops queued items, releases waiters and runs onClose once", async () => {
    let closes = 0;
    const q = new AsyncQueue<number>({ onClose: () => closes++ });
    const waiting = q.next();
    q.stop();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    q.stop();
    q.end();
    assert.equal(closes, 1);
    const q2 = new AsyncQueue<number>();
    q2.push(1);
    q2.fail(new Error("dropped"));
    q2.stop();
    assert.deepEqual(await q2.next(), { done: true, value: undefined }, "stop drops both items and the pending error");
  });

  it("break in for-await runs onClose (return())", async () => {
    let closes = 0;
    const q = new AsyncQueue<number>({ onClose: () => closes++ });
    q.push(1);
    q.push(2);
    for await (const v of q) {
      assert.equal(v, 1);
      break;
    }
    assert.equal(closes, 1);
    assert.equal(q.closed, true);
    assert.equal(q.push(3), false);
  });

  it("the bound: push() on a full queue returns false and queues nothing; the queue stays open", async () => {
    const q = new AsyncQueue<number>({ limit: 2 });
    assert.equal(q.push(1), true);
    assert.equal(q.push(2), true);
    assert.equal(q.push(3), false);
    assert.equal(q.length, 2);
    assert.equal(q.closed, false);
    assert.deepEqual(await q.next(), { done: false, value: 1 });
    assert.equal(q.push(4), true);
    q.fail(consumerTooSlow(2));
    assert.deepEqual(await q.next(), { done: false, value: 2 });
    assert.deepEqual(await q.next(), { done: false, value: 4 });
    await assert.rejects(q.next(), (e: unknown) => GomsError.is(e) && e.code === Code.ResourceExhausted);
  });

  it("items handed to a waiting next() do not count against the bound", async () => {
    const q = new AsyncQueue<number>({ limit: 1 });
    const a = q.next();
    const b = q.next();
    assert.equal(q.push(1), true);
    assert.equal(q.push(2), true);
    assert.equal(q.push(3), true);
    assert.equal(q.push(4), false);
    assert.deepEqual([await a, await b], [
      { done: false, value: 1 },
      { done: false, value: 2 },
    ]);
  });

  it("onDrain lets an on-demand producer refill synchronously", async () => {
    let n = 0;
    const q: AsyncQueue<number> = new AsyncQueue<number>({
      onDrain: () => {
        if (n < 3) q.push(n++);
        else q.end();
      },
    });
    const seen: number[] = [];
    for await (const v of q) seen.push(v);
    assert.deepEqual(seen, [0, 1, 2]);
  });

  it("rejects a limit below 1", () => {
    assert.throws(() => new AsyncQueue({ limit: 0 }), (e: unknown) => GomsError.is(e) && e.code === Code.InvalidArgument);
  });
});
