import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createStore, hashKey, splitHashKey, text } from "../../src/watch/index.js";
import { dec } from "./helpers.js";

const opts = { leaseCheckIntervalMs: 0 } as const;

function code(fn: () => unknown): Code | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(GomsError.is(err), `not a GomsError: ${String(err)}`);
    return err.code;
  }
  return undefined;
}

test("put/get track create/mod revision and version", () => {
  const s = createStore(opts);
  assert.equal(s.revision, 0);
  assert.equal(s.put("a", "1"), 1);
  assert.equal(s.put("b", new Uint8Array([7])), 2);
  assert.equal(s.put("a", "2"), 3);
  const a = s.get("a");
  assert.ok(a);
  assert.equal(text(a.value), "2");
  assert.deepEqual([a.createRevision, a.modRevision, a.version], [1, 3, 2]);
  assert.equal(s.getText("a"), "2");
  assert.equal(s.get("missing"), undefined);
  assert.deepEqual([...(s.get("b")?.value ?? [])], [7]);
  s.close();
});

test("put copies the caller's buffer", () => {
  const s = createStore(opts);
  const buf = new Uint8Array([1, 2]);
  s.put("k", buf);
  buf[0] = 9;
  assert.deepEqual([...(s.get("k")?.value ?? [])], [1, 2]);
  s.close();
});

test("compare-and-set on put and delete", () => {
  const s = createStore(opts);
  assert.equal(s.put("k", "v", { prevRevision: 0 }), 1);
  assert.equal(code(() => s.put("k", "v2", { prevRevision: 0 })), Code.FailedPrecondition);
  assert.equal(code(() => s.put("k", "v2", { prevRevision: 5 })), Code.FailedPrecondition);
  assert.equal(s.put("k", "v2", { prevRevision: 1 }), 2);
  assert.equal(code(() => s.delete("k", { prevRevision: 1 })), Code.FailedPrecondition);
  assert.equal(s.revision, 2, "failed CAS does not consume a revision");
  assert.deepEqual(s.delete("k", { prevRevision: 2 }), { deleted: 1, revision: 3 });
  assert.equal(s.get("k"), undefined);
  assert.equal(code(() => s.put("x", "v", { prevRevision: 3 })), Code.FailedPrecondition);
  assert.equal(code(() => s.put("", "v")), Code.InvalidArgument);
  assert.equal(code(() => s.put("n", 5 as unknown as string)), Code.InvalidArgument);
  s.close();
});

test("range is sorted, consistent, and deletePrefix removes only the prefix", () => {
  const s = createStore(opts);
  for (const k of ["svc/b", "svc/a", "svc/c", "svd", "sv"]) s.put(k, k);
  const r = s.range("svc/");
  assert.deepEqual(
    r.kvs.map((kv) => kv.key),
    ["svc/a", "svc/b", "svc/c"],
  );
  assert.equal(r.revision, 5);
  assert.deepEqual(
    s.getPrefix("").kvs.map((kv) => kv.key),
    ["sv", "svc/a", "svc/b", "svc/c", "svd"],
  );
  assert.deepEqual(s.deletePrefix("svc/"), { deleted: 3, revision: 8 });
  assert.deepEqual(
    s.range().kvs.map((kv) => kv.key),
    ["sv", "svd"],
  );
  assert.deepEqual(s.delete("nope"), { deleted: 0, revision: 8 });
  assert.deepEqual(s.deletePrefix("zzz"), { deleted: 0, revision: 8 });
  s.close();
});

test("hash commands", () => {
  const s = createStore(opts);
  s.hset("nodeRegister:1", "gate0", '{"id":1}');
  s.hset("nodeRegister:1", "db0", "x");
  s.hset("nodeRegister:2", "w", "y");
  s.put("nodeRegisterPlain", "p");
  assert.equal(s.hgetText("nodeRegister:1", "gate0"), '{"id":1}');
  assert.equal(dec(s.hget("nodeRegister:1", "db0")), "x");
  assert.equal(s.hget("nodeRegister:1", "none"), undefined);
  assert.deepEqual({ ...s.hgetallText("nodeRegister:1") }, { db0: "x", gate0: '{"id":1}' });
  assert.deepEqual(Object.keys(s.hgetall("nodeRegister:1")), ["db0", "gate0"]);
  assert.deepEqual(s.keyPrefix("nodeRegister"), ["nodeRegister:1", "nodeRegister:2", "nodeRegisterPlain"]);
  assert.deepEqual(s.keyPrefix("nodeRegister:"), ["nodeRegister:1", "nodeRegister:2"]);
  // empty value deletes the field
  const rev = s.revision;
  assert.equal(s.hset("nodeRegister:1", "db0", ""), rev + 1);
  assert.equal(s.hget("nodeRegister:1", "db0"), undefined);
  assert.equal(s.hset("nodeRegister:1", "db0", ""), rev + 1, "deleting a missing field is a no-op");
  assert.deepEqual(s.hdel("nodeRegister:1", "gate0"), { deleted: 1, revision: rev + 2 });
  assert.deepEqual(s.keyPrefix("nodeRegister:"), ["nodeRegister:2"]);
  s.hset("h", "a", "1");
  s.hset("h", "b", "2");
  s.put("h", "plain");
  assert.equal(s.del("h").deleted, 3);
  assert.deepEqual({ ...s.hgetall("h") }, {});
  assert.equal(s.get("h"), undefined);
  assert.deepEqual(splitHashKey(hashKey("h", "f\u0000g")), { hash: "h", field: "f\u0000g" });
  assert.equal(splitHashKey("plain"), undefined);
  assert.equal(code(() => s.hset("bad\u0000", "f", "v")), Code.InvalidArgument);
  assert.equal(code(() => s.hset("h", "", "v")), Code.InvalidArgument);
  // a prototype-ish field name is just a field
  s.hset("p", "__proto__", "1");
  assert.equal(s.hgetallText("p")["__proto__"], "1");
  s.close();
});

test("hincrby", () => {
  const s = createStore(opts);
  assert.equal(s.hincrby("node_load:gate", "gate0", 5), 5);
  assert.equal(s.hincrby("node_load:gate", "gate0", -7), -2);
  assert.equal(s.hgetText("node_load:gate", "gate0"), "-2");
  s.hset("node_load:gate", "bad", "1.5");
  assert.equal(code(() => s.hincrby("node_load:gate", "bad", 1)), Code.InvalidArgument);
  s.hset("node_load:gate", "word", "abc");
  assert.equal(code(() => s.hincrby("node_load:gate", "word", 1)), Code.InvalidArgument);
  assert.equal(code(() => s.hincrby("node_load:gate", "gate0", 1.5)), Code.InvalidArgument);
  s.hset("node_load:gate", "big", String(Number.MAX_SAFE_INTEGER));
  assert.equal(code(() => s.hincrby("node_load:gate", "big", 1)), Code.OutOfRange);
  s.close();
});

test("closed store rejects commands", () => {
  const s = createStore(opts);
  s.close();
  s.close();
  assert.equal(code(() => s.put("a", "b")), Code.Unavailable);
  assert.equal(code(() => s.get("a")), Code.Unavailable);
});
