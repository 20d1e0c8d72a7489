import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FixedQueue } from "../../src/internal/util/fixed-queue.js";

type Op = { op: "push"; n: number } | { op: "shift"; n: number } | { op: "clear" };

// Batches larger than a chunk (1024) so runs cross chunk boundaries both ways.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("push" as const), n: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("shift" as const), n: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
);

test("FixedQueue behaves like an array used as a FIFO", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const q = new FixedQueue<number>();
      const model: number[] = [];
      let seq = 0;
      for (const o of ops) {
        if (o.op === "push") {
          for (let i = 0; i < o.n; i++) {
            q.push(seq);
            model.push(seq++);
          }
        } else if (o.op === "shift") {
          for (let i = 0; i < o.n; i++) assert.equal(q.shift(), model.shift());
        } else {
          q.clear();
          model.length = 0;
        }
        assert.equal(q.length, model.length);
        assert.equal(q.peek(), model[0]);
      }
    }),
    { numRuns: 200 },
  );
});

test("FixedQueue keeps undefined items (length tells them from empty)", () => {
  const q = new FixedQueue<number | undefined>();
  q.push(undefined);
  q.push(1);
  assert.equal(q.length, 2);
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 1);
  assert.equal(q.shift(), 1);
  assert.equal(q.length, 0);
});
