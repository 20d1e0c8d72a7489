import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createStore, oldestRevisionOf, resumeRevisionOf, type WatchEvent } from "../../src/watch/index.js";
import { brief, take } from "./helpers.js";

const opts = { leaseCheckIntervalMs: 0 } as const;

test("key, prefix and hash filters", async () => {
  const s = createStore(opts);
  const byKey = s.watch({ key: "a/1" });
  const byPrefix = s.watch({ prefix: "a/" });
  const byHash = s.watch({ hash: "nodeRegister:1" });
  const all = s.watch();
  s.put("a/1", "x");
  s.put("a/2", "y");
  s.put("b", "z");
  s.hset("nodeRegister:1", "n", "v");
  s.hset("nodeRegister:10", "n", "v");
  s.delete("a/1");
  s.put("end", "");
  assert.deepEqual((await take(byKey, 2)).map(brief), ["1:put:a/1=x", "6:delete:a/1="]);
  assert.deepEqual((await take(byPrefix, 3)).map(brief), ["1:put:a/1=x", "2:put:a/2=y", "6:delete:a/1="]);
  assert.deepEqual((await take(byHash, 1)).map(brief), ["4:put:nodeRegister:1\u0000n=v"]);
  assert.equal((await take(all, 7)).at(-1)?.key, "end");
  byKey.stop();
  byKey.stop();
  assert.deepEqual(await byKey.next(), { done: true, value: undefined });
  assert.throws(() => s.watch({ key: "a", prefix: "b" }), (e: unknown) => GomsError.is(e) && e.code === Code.InvalidArgument);
  s.close();
});

test("put events carry prevValue, version and createRevision", async () => {
  const s = createStore(opts);
  const w = s.watch({ key: "k" });
  s.put("k", "1");
  s.put("k", "2");
  const [a, b] = await take(w, 2);
  assert.equal(a?.prevValue, undefined);
  assert.deepEqual([b?.version, b?.createRevision, new TextDecoder().decode(b?.prevValue)], [2, 1, "1"]);
  s.close();
});

test("a pending next() resolves on the next event, and stop() resolves it done", async () => {
  const s = createStore(opts);
  const w = s.watch({ prefix: "p" });
  const p = w.next();
  s.put("p1", "v");
  assert.equal((await p).value?.key, "p1");
  const q = w.next();
  w.stop();
  assert.deepEqual(await q, { done: true, value: undefined });
  assert.equal(s.watcherCount, 0);
  s.close();
});

test("for-await with break stops the watcher", async () => {
  const s = createStore(opts);
  for (let i = 0; i < 5; i++) s.put(`k${String(i)}`, "v");
  const seen: number[] = [];
  for await (const ev of s.watch({ startRevision: 1 })) {
    seen.push(ev.revision);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(s.watcherCount, 0);
  s.close();
});

test("list then watch from revision+1 sees every later change exactly once", async () => {
  const s = createStore(opts);
  s.put("svc/a", "1");
  const { kvs, revision } = s.range("svc/");
  s.put("svc/b", "2");
  const w = s.watch({ prefix: "svc/", startRevision: revision + 1 });
  s.put("svc/c", "3");
  assert.equal(kvs.length, 1);
  assert.deepEqual((await take(w, 2)).map(brief), ["2:put:svc/b=2", "3:put:svc/c=3"]);
  s.close();
});

test("resume from a revision replays exactly the missed events, then live", async () => {
  const s = createStore(opts);
  for (let i = 1; i <= 10; i++) s.put(`k${String(i % 3)}`, String(i));
  const w = s.watch({ startRevision: 4 });
  const first = await take(w, 3); // 4,5,6 replayed
  s.put("live", "x"); // 11
  const rest = await take(w, 5); // 7..11
  assert.deepEqual(
    [...first, ...rest].map((e) => e.revision),
    [4, 5, 6, 7, 8, 9, 10, 11],
  );
  s.put("live", "y");
  assert.equal((await take(w, 1))[0]?.revision, 12);
  s.close();
});

test("startRevision older than the history fails with a compacted error", () => {
  const s = createStore({ ...opts, historySize: 5 });
  for (let i = 0; i < 12; i++) s.put("k", String(i));
  assert.equal(s.oldestRevision, 8);
  s.watch({ startRevision: 8 }).stop();
  try {
    s.watch({ startRevision: 7 });
    assert.fail("expected compacted error");
  } catch (err) {
    assert.ok(GomsError.is(err));
    assert.equal(err.code, Code.OutOfRange);
    assert.match(err.message, /compacted: resume from revision 7 requires a full resync/);
    assert.equal(oldestRevisionOf(err), 8);
    assert.equal(resumeRevisionOf(err), 7);
  }
  s.close();
});

test("a replay overtaken by history eviction ends with fell-behind", async () => {
  const s = createStore({ ...opts, historySize: 4 });
  for (let i = 0; i < 4; i++) s.put("k", String(i));
  const w = s.watch({ startRevision: 1 });
  assert.equal((await take(w, 1))[0]?.revision, 1);
  for (let i = 0; i < 4; i++) s.put("k", String(i)); // evicts 2..5
  await assert.rejects(w.next(), (e: unknown) => GomsError.is(e) && e.code === Code.ResourceExhausted && resumeRevisionOf(e) === 2);
  s.close();
});

test("a slow watcher is cut off with the revision to resume from", async () => {
  const s = createStore({ ...opts, watchQueueSize: 3 });
  const slow = s.watch({ prefix: "x" });
  for (let i = 1; i <= 6; i++) s.put("x", String(i));
  assert.equal(s.watcherCount, 0, "cut-off watcher is detached");
  const got = await take(slow, 3);
  assert.deepEqual(
    got.map((e) => e.revision),
    [1, 2, 3],
  );
  let err: unknown;
  try {
    await slow.next();
  } catch (e) {
    err = e;
  }
  assert.ok(GomsError.is(err));
  assert.equal(err.code, Code.ResourceExhausted);
  assert.match(err.message, /watcher fell behind; resume from revision 4/);
  assert.equal(resumeRevisionOf(err), 4);
  assert.deepEqual(await slow.next(), { done: true, value: undefined });
  // resuming delivers the rest
  const again = s.watch({ prefix: "x", startRevision: 4 });
  assert.deepEqual(
    (await take(again, 3)).map((e) => e.revision),
    [4, 5, 6],
  );
  s.close();
});

test("close() ends watchers with Unavailable after queued events", async () => {
  const s = createStore(opts);
  const w = s.watch();
  s.put("a", "1");
  s.close();
  assert.equal((await take(w, 1))[0]?.key, "a");
  await assert.rejects(w.next(), (e: unknown) => GomsError.is(e) && e.code === Code.Unavailable);
});

test("events are delivered in revision order to concurrent watchers", async () => {
  const s = createStore(opts);
  const ws = [s.watch(), s.watch({ prefix: "" }), s.watch({ startRevision: 1 })];
  const lease = s.grant(1000);
  s.put("a", "1", { lease });
  s.deletePrefix("");
  s.put("b", "2");
  s.revoke(lease);
  const logs: WatchEvent[][] = await Promise.all(ws.map((w) => take(w, 3)));
  for (const l of logs) assert.deepEqual(l.map(brief), ["1:put:a=1", "2:delete:a=", "3:put:b=2"]);
  s.close();
});
