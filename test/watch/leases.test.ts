import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createStore } from "../../src/watch/index.js";
import { brief, fakeClock, take } from "./helpers.js";

test("lease expiry deletes attached keys and emits delete events", async () => {
  const clock = fakeClock();
  const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0 });
  const lease = s.grant(1000);
  s.put("node/a", "A", { lease });
  s.hset("nodeRegister:1", "a", "{}", { lease });
  s.put("static", "S");
  assert.equal(s.get("node/a")?.lease, lease);
  const w = s.watch();
  clock.advance(999);
  assert.equal(s.expireLeases(), 0);
  assert.equal(s.timeToLive(lease), 1);
  clock.advance(1);
  assert.equal(s.expireLeases(), 1);
  const evs = await take(w, 2);
  assert.deepEqual(evs.map(brief), ["4:delete:node/a=", "5:delete:nodeRegister:1\u0000a="]);
  assert.equal(evs[0]?.prevValue?.length, 1);
  assert.equal(s.get("node/a"), undefined);
  assert.equal(s.getText("static"), "S");
  assert.throws(() => s.keepAlive(lease), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
  assert.throws(() => s.put("x", "y", { lease }), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
  s.close();
});

test("expired leases are reaped lazily by the next command", () => {
  const clock = fakeClock();
  const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0 });
  const lease = s.grant(10);
  s.put("k", "v", { lease });
  clock.advance(10);
  assert.equal(s.get("k"), undefined);
  assert.equal(s.revision, 2);
  s.close();
});

test("keepAlive extends the ttl", () => {
  const clock = fakeClock();
  const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0 });
  const lease = s.grant(100);
  s.put("k", "v", { lease });
  clock.advance(90);
  assert.equal(s.keepAlive(lease), 100);
  clock.advance(90);
  assert.equal(s.getText("k"), "v");
  assert.equal(s.timeToLive(lease), 10);
  clock.advance(10);
  assert.equal(s.get("k"), undefined);
  assert.throws(() => s.keepAlive("12345"), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
  s.close();
});

test("revoke deletes keys; re-put without lease detaches", async () => {
  const s = createStore({ leaseCheckIntervalMs: 0 });
  const lease = s.grant(60_000);
  s.put("a", "1", { lease });
  s.put("b", "2", { lease });
  s.put("c", "3", { lease });
  s.put("c", "3'"); // detached from the lease
  const w = s.watch({ prefix: "" });
  assert.deepEqual(s.revoke(lease), { deleted: 2, revision: 6 });
  assert.deepEqual((await take(w, 2)).map(brief), ["5:delete:a=", "6:delete:b="]);
  assert.equal(s.getText("c"), "3'");
  assert.throws(() => s.revoke(lease), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
  assert.throws(() => s.grant(0), (e: unknown) => GomsError.is(e) && e.code === Code.InvalidArgument);
  s.close();
});

test("internal timer expires leases and close() clears it", async () => {
  const s = createStore({ leaseCheckIntervalMs: 5 });
  const lease = s.grant(10);
  s.put("eph", "v", { lease });
  const w = s.watch({ key: "eph" });
  const keepAlive = setTimeout(() => undefined, 5000); // the store's timer is unref'd
  const [ev] = await take(w, 1);
  clearTimeout(keepAlive);
  assert.equal(ev?.type, "delete");
  s.close();
  // the test runner would hang on a leaked, ref'd timer; the interval is also unref'd
});

test("expiry reads a deadline heap: one check per command, however many leases exist", () => {
  const clock = fakeClock();
  const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0, limits: { maxLeases: 20_000, maxLeasesPerClient: 20_000 } });
  for (let i = 0; i < 10_000; i++) s.grant(3_600_000 + i);
  const before = s.leaseStats.expiryChecks;
  for (let i = 0; i < 1000; i++) s.get("k");
  // A scan of every lease per command would look at 10 000 x 1000 leases; the heap looks at the earliest one.
  assert.equal(s.leaseStats.expiryChecks - before, 1000);
  // Expiry order follows deadlines, including those moved by keepAlive.
  const a = s.grant(150);
  const b = s.grant(200);
  s.put("a", "1", { lease: a });
  s.put("b", "1", { lease: b });
  clock.advance(100);
  s.keepAlive(a); // a now ends at 250, after b
  clock.advance(110);
  assert.equal(s.expireLeases(), 1);
  assert.equal(s.get("b"), undefined);
  assert.equal(s.getText("a"), "1");
  clock.advance(50);
  assert.equal(s.get("a"), undefined);
  assert.equal(s.leaseStats.leases, 10_000);
  s.close();
});

test("lease caps: global and per owner, with the reason's message; revoke and expiry free a slot", () => {
  const clock = fakeClock();
  const s = createStore({ now: clock.now, leaseCheckIntervalMs: 0, limits: { maxLeases: 5, maxLeasesPerClient: 2 } });
  const tooMany = (re: RegExp) => (e: unknown) => GomsError.is(e) && e.code === Code.ResourceExhausted && e.reason === "GOMS_ERR_TOO_MANY_LEASES" && re.test(e.rawMessage);
  const a1 = s.grant(1000, { owner: "a" });
  s.grant(5000, { owner: "a" });
  assert.throws(() => s.grant(1000, { owner: "a" }), tooMany(/this client holds its limit of 2 leases/));
  s.grant(1000, { owner: "b" });
  s.grant(1000);
  s.grant(1000);
  assert.throws(() => s.grant(1000, { owner: "c" }), tooMany(/the server holds its limit of 5 leases/));
  s.revoke(a1);
  s.grant(1000, { owner: "a" });
  assert.deepEqual(s.leaseStats, { leases: 5, owners: 2, expiryChecks: s.leaseStats.expiryChecks });
  clock.advance(1000);
  assert.equal(s.expireLeases(), 4);
  assert.equal(s.leaseStats.leases, 1);
  assert.equal(s.leaseStats.owners, 1);
  s.grant(1000, { owner: "a" });
  assert.throws(() => s.grant(1000, { owner: "a" }), tooMany(/limit of 2/));
  assert.throws(() => createStore({ limits: { maxLeases: 0 } }), (e: unknown) => GomsError.is(e) && e.reason === "GOMS_ERR_INVALID_OPTION");
  s.close();
});
