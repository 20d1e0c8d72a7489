// CallTable (the in-flight call table of a connection) against a Map model,
// including ids that collide on `id & mask`, wrap-around ids, growth and shrinking.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CallTable } from "../../src/internal/conn/call-table.js";

interface Box {
  v: number;
}

type Op = { op: "set"; id: number; v: number } | { op: "delete"; id: number } | { op: "get"; id: number };

/** Ids from a small pool, so collisions, re-inserts and deletes of present ids are frequent. */
function opArb(pool: number[]): fc.Arbitrary<Op> {
  const id = fc.constantFrom(...pool);
  return fc.oneof(
    fc.record({ op: fc.constant("set" as const), id, v: fc.integer() }),
    fc.record({ op: fc.constant("delete" as const), id }),
    fc.record({ op: fc.constant("get" as const), id }),
  );
}

function check(table: CallTable<Box>, model: Map<number, Box>): void {
  assert.equal(table.size, model.size);
  for (const [id, b] of model) assert.equal(table.get(id), b);
  const entries = table.entries().sort((a, b) => a[0] - b[0]);
  assert.deepEqual(entries, [...model].sort((a, b) => a[0] - b[0]));
}

describe("CallTable", () => {
  it("behaves like a Map under random set/get/delete (colliding ids)", () => {
    // Multiples of 16 and 64 all land on the same home slot of a small table.
    const pool = [1, 2, 3, 16, 32, 48, 64, 128, 17, 33, 0xffffffff, 0xfffffff0, 0x80000000];
    fc.assert(
      fc.property(fc.array(opArb(pool), { maxLength: 300 }), (ops) => {
        const table = new CallTable<Box>(16);
        const model = new Map<number, Box>();
        for (const o of ops) {
          if (o.op === "set") {
            const b = { v: o.v };
            table.set(o.id, b);
            model.set(o.id, b);
          } else if (o.op === "delete") {
            assert.equal(table.delete(o.id), model.delete(o.id));
          } else {
            assert.equal(table.get(o.id), model.get(o.id));
            assert.equal(table.has(o.id), model.has(o.id));
          }
        }
        check(table, model);
      }),
      { numRuns: 500 },
    );
  });

  it("grows past thousands of live calls and shrinks back, keeping every entry", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 97 }), (base, n, stride) => {
        const table = new CallTable<Box>();
        const model = new Map<number, Box>();
        for (let i = 0; i < n; i++) {
          const id = (base + i * stride) >>> 0;
          const b = { v: i };
          table.set(id, b);
          model.set(id, b);
        }
        check(table, model);
        // Delete all but a few, in an order unrelated to insertion.
        const ids = [...model.keys()].sort((a, b) => (a % 7) - (b % 7) || a - b);
        for (const id of ids.slice(0, Math.max(0, ids.length - 3))) {
          assert.ok(table.delete(id));
          model.delete(id);
        }
        check(table, model);
        assert.ok(table.capacity <= 2048, `capacity ${table.capacity} after shrinking to ${table.size}`);
      }),
      { numRuns: 40 },
    );
  });

  it("steady churn like a connection's (sequential ids, bounded in flight) keeps the table small", () => {
    const table = new CallTable<Box>();
    const live: number[] = [];
    for (let id = 1; id <= 100_000; id++) {
      table.set(id, { v: id });
      live.push(id);
      if (live.length > 64) assert.ok(table.delete(live.shift()!));
    }
    assert.equal(table.size, 64);
    assert.ok(table.capacity <= 256, `capacity ${table.capacity}`);
    for (const id of live) assert.equal(table.get(id)?.v, id);
    assert.equal(table.get(1), undefined);
    table.clear();
    assert.equal(table.size, 0);
    assert.deepEqual(table.values(), []);
  });
});
