// Store size limits (issue 10, defect 6): key and value sizes are checked where a
// change is accepted, and the watch history is bounded in bytes as well as events.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Code, GomsError } from "../../src/errors/index.js";
import { History } from "../../src/kv/history.js";
import { eventBytes } from "../../src/kv/limits.js";
import { createStore } from "../../src/watch/index.js";

const reason = (r: string) => (e: unknown) => GomsError.is(e) && e.code === Code.InvalidArgument && e.reason === r;

test("keys and values past their limits are refused; multi-byte keys count in UTF-8 bytes", () => {
  const s = createStore({ leaseCheckIntervalMs: 0, limits: { maxKeyBytes: 8, maxValueBytes: 4 } });
  s.put("12345678", "abcd");
  assert.throws(() => s.put("123456789", "a"), reason("GOMS_ERR_KEY_TOO_LARGE"));
  assert.throws(() => s.put("ééééé", "a"), reason("GOMS_ERR_KEY_TOO_LARGE")); // 5 chars, 10 bytes
  assert.throws(() => s.put("k", "abcde"), reason("GOMS_ERR_VALUE_TOO_LARGE"));
  assert.throws(() => s.hset("h", "field78", "a"), reason("GOMS_ERR_KEY_TOO_LARGE")); // "h\0field78" is 9 bytes
  assert.throws(() => s.hincrby("h", "field78", 1), reason("GOMS_ERR_KEY_TOO_LARGE"));
  assert.equal(s.revision, 1);
  s.close();
});

test("40 puts of a big value to one key keep at most historyBytes in the history", () => {
  const s = createStore({ leaseCheckIntervalMs: 0, limits: { maxValueBytes: 1 << 20, historyBytes: 5 << 20 } });
  const w = s.watch({ startRevision: 1 });
  w.stop();
  const value = new Uint8Array(1 << 20);
  for (let i = 0; i < 40; i++) s.put("big", value);
  assert.ok(s.history.bytes <= 5 << 20, String(s.history.bytes));
  assert.equal(s.history.length, 2); // each event holds value + previous value: just over 2 MiB
  assert.equal(s.oldestRevision, 39);
  assert.throws(() => s.watch({ startRevision: 1 }), (e: unknown) => GomsError.is(e) && e.code === Code.OutOfRange);
  s.close();
});

test("history: never more than its event and byte budgets, always the newest event, every retained event readable", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 200 }), fc.array(fc.nat(120), { maxLength: 60 }), (cap, budget, sizes) => {
      const h = new History(cap, 0, budget);
      sizes.forEach((n, i) => {
        const ev = { type: "put" as const, key: "k", revision: i + 1, value: new Uint8Array(n) };
        h.push(ev);
        assert.ok(h.length <= cap && h.length >= 1);
        assert.ok(h.bytes <= budget || h.length === 1);
        assert.equal(h.at(i + 1), ev);
        let sum = 0;
        for (let r = h.oldestAvailable; r <= i + 1; r++) sum += eventBytes(h.at(r)!);
        assert.equal(sum, h.bytes);
        assert.equal(h.oldestAvailable + h.length, i + 2);
      });
    }),
    { numRuns: 300 },
  );
});

test("a stalled watcher's live queue is bounded in bytes as well as events: it fails at the first event past the history budget", async () => {
  // queueSize alone (1000 events) would let this watcher keep all 40 MiB alive.
  const s = createStore({ leaseCheckIntervalMs: 0, limits: { maxValueBytes: 1 << 20, historyBytes: 5 << 20 } });
  const w = s.watch({ prefix: "k" });
  const value = new Uint8Array(1 << 20);
  for (let i = 0; i < 40; i++) s.put(`k${String(i)}`, value); // new keys: each event holds one value
  const got: number[] = [];
  const err = await (async () => {
    for await (const ev of w) got.push(ev.revision);
  })().catch((e: unknown) => e);
  assert.ok(GomsError.is(err) && err.code === Code.ResourceExhausted, String(err));
  // Five events of just over 1 MiB fit 5 MiB less their keys: four; the fifth is the first missed.
  assert.deepEqual(got, [1, 2, 3, 4]);
  assert.match(err.message, /resume from revision 5/);
  s.close();
});
