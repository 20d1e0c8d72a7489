import { test } from "node:test";
import assert from "node:assert/strict";
import { CappedMap } from "../../src/internal/util/capped-map.js";
import { GomsError, gomsError } from "../../src/errors/index.js";

const full = (limit: number) => gomsError("GOMS_ERR_TOO_MANY_CALLS", { limit });

test("CappedMap refuses new keys past its limit and never evicts", () => {
  const m = new CappedMap<string, number>(2, full);
  assert.equal(m.trySet("a", 1), true);
  m.set("b", 2);
  assert.equal(m.isFull, true);
  assert.equal(m.trySet("c", 3), false);
  assert.throws(() => m.set("c", 3), (e: unknown) => e instanceof GomsError && e.reason === "GOMS_ERR_TOO_MANY_CALLS");
  assert.deepEqual([...m.keys()], ["a", "b"]);
  // Updating an existing key is always allowed, even when full.
  m.set("a", 10);
  assert.equal(m.get("a"), 10);
  // Room again after a delete.
  m.delete("b");
  assert.equal(m.trySet("c", 3), true);
  assert.deepEqual([...m], [["a", 10], ["c", 3]]);
});

test("CappedMap rejects a limit that is not a positive integer", () => {
  assert.throws(() => new CappedMap(0, full), RangeError);
  assert.throws(() => new CappedMap(1.5, full), RangeError);
});
