import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { oldestRevisionOf, resumeRevisionOf, WatchService } from "../../src/watch/index.js";
import { until } from "../helpers.js";
import { brief, enc, Fixture, take } from "./helpers.js";

const fx = new Fixture();
afterEach(() => fx.close());
after(() => fx.close());

const isCode = (code: Code) => (e: unknown) => GomsError.is(e) && e.code === code;

async function setup(o: Parameters<Fixture["server"]>[0] = {}) {
  const s = await fx.server(o);
  const c = fx.client(s.url);
  await c.get("warm-up"); // connected
  return { s, c, rpc: c.node.client(WatchService) };
}

describe("Poll: the long poll", () => {
  it("answers at once when events exist", async () => {
    const { c, rpc } = await setup();
    for (const k of ["a", "b", "c"]) await c.put(k, enc(k));
    const t0 = Date.now();
    const r = await rpc.poll({ fromRevision: 1n, waitMs: 10_000 });
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(r.events.map((e) => [e.key, e.revision]), [["a", 1n], ["b", 2n], ["c", 3n]]);
    assert.equal(r.nextRevision, 4n);
    assert.equal(r.revision, 3n);
    assert.equal(r.oldestRevision, 1n);
  });

  it("waits, then answers as soon as a matching put lands; skips non-matching events", async () => {
    const { s, c, rpc } = await setup();
    const t0 = Date.now();
    const pending = rpc.poll({ filter: { case: "prefix", value: "a/" }, fromRevision: 1n, waitMs: 10_000 }, { timeoutMs: 15_000 });
    await until(() => s.poller.parked === 1, 2000, "poll parked");
    await c.put("b", enc("other")); // wakes the poll, which finds nothing and parks again
    await until(() => s.poller.parked === 1, 2000, "poll parked again");
    await c.put("a/1", enc("x"));
    const r = await pending;
    const took = Date.now() - t0;
    assert.ok(took < 3000, `answered after ${String(took)} ms`);
    assert.deepEqual(r.events.map((e) => e.key), ["a/1"]);
    assert.equal(r.nextRevision, 3n);
  });

  it("answers empty after wait_ms, with next_revision past the examined events", async () => {
    const { c, rpc } = await setup();
    await c.put("x", enc("1"));
    const t0 = Date.now();
    const r = await rpc.poll({ filter: { case: "key", value: "y" }, fromRevision: 1n, waitMs: 150 });
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(r.events.length, 0);
    assert.equal(r.nextRevision, 2n);
  });

  it("from_revision 0 means from now", async () => {
    const { s, c, rpc } = await setup();
    await c.put("old", enc("1"));
    const pending = rpc.poll({ fromRevision: 0n, waitMs: 5000 });
    await until(() => s.poller.parked === 1, 2000, "poll parked");
    await c.put("new", enc("2"));
    assert.deepEqual((await pending).events.map((e) => e.key), ["new"]);
  });

  it("never waits past the call's deadline", async () => {
    const { rpc } = await setup({ poll: { deadlineMarginMs: 300 } });
    const t0 = Date.now();
    const r = await rpc.poll({ fromRevision: 1n, waitMs: 30_000 }, { timeoutMs: 800 });
    const took = Date.now() - t0;
    assert.equal(r.events.length, 0, "answered empty instead of DeadlineExceeded");
    assert.ok(took >= 400 && took < 800, `answered after ${String(took)} ms`);
  });

  it("a client abort cancels the parked poll on the server, leaving nothing behind", async () => {
    const { s, rpc } = await setup();
    const watchersBefore = s.store.watcherCount;
    const ac = new AbortController();
    const pending = rpc.poll({ fromRevision: 1n, waitMs: 20_000 }, { signal: ac.signal, timeoutMs: 25_000 });
    await until(() => s.poller.parked === 1, 2000, "poll parked");
    ac.abort();
    await assert.rejects(pending, isCode(Code.Canceled));
    await until(() => s.poller.parked === 0, 2000, "poll released");
    assert.equal(s.store.watcherCount, watchersBefore, "no per-poll store watcher");
    // The connection's poll slot was released: the limit still admits new polls.
    const r = await rpc.poll({ fromRevision: 1n, waitMs: 0 });
    assert.equal(r.events.length, 0);
  });

  it("limits concurrent polls per connection", async () => {
    const { s, rpc } = await setup({ poll: { maxPollsPerConnection: 2 } });
    const ac = new AbortController();
    const parked = [1, 2].map(() => rpc.poll({ fromRevision: 1n, waitMs: 10_000 }, { signal: ac.signal }).catch((e: unknown) => e));
    await until(() => s.poller.parked === 2, 2000, "two polls parked");
    await assert.rejects(rpc.poll({ fromRevision: 1n, waitMs: 10_000 }), isCode(Code.ResourceExhausted));
    ac.abort();
    await Promise.all(parked);
  });

  it("server close answers parked polls at once", async () => {
    const { s, rpc } = await setup();
    const pending = rpc.poll({ fromRevision: 1n, waitMs: 20_000 }).catch((e: unknown) => e);
    await until(() => s.poller.parked === 1, 2000, "poll parked");
    const t0 = Date.now();
    await s.close({ graceMs: 5000 });
    assert.ok(Date.now() - t0 < 1000, "close did not wait for the poll");
    const r = await pending;
    assert.ok(!(r instanceof Error), "answered, not failed");
  });

  it("a compacted from_revision is OutOfRange with resume and oldest revisions", async () => {
    const { c, rpc } = await setup({ store: { historySize: 4 } });
    for (let i = 0; i < 10; i++) await c.put(`k${String(i)}`, enc("v"));
    const err = await rpc.poll({ fromRevision: 2n }).catch((e: unknown) => e);
    assert.ok(GomsError.is(err) && err.code === Code.OutOfRange);
    assert.equal(resumeRevisionOf(err), 2);
    assert.equal(oldestRevisionOf(err), 7);
    // The client watch ends with that error; a full resync (range, then watch) works.
    const w = c.watch("", 0);
    const e2 = await w[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    assert.ok(GomsError.is(e2) && e2.code === Code.OutOfRange && resumeRevisionOf(e2) === 1);
    const { revision } = await c.range("");
    const w2 = c.watch("", revision);
    await c.put("after", enc("x"));
    assert.deepEqual((await take(w2, 1)).map(brief), ["11:put:after=x"]);
    w2.stop();
  });

  it("a from_revision ahead of the store is OutOfRange", async () => {
    const { rpc } = await setup();
    const err = await rpc.poll({ fromRevision: 5n }).catch((e: unknown) => e);
    assert.ok(GomsError.is(err) && err.code === Code.OutOfRange && /ahead of the store/.test(err.message));
  });
});

describe("client watch over the long poll", () => {
  it("afterRevision is exclusive; omitted means from now; prefix filters; stop() ends it", async () => {
    const { c } = await setup();
    await c.put("p/1", enc("a"));
    await c.put("q/1", enc("b"));
    await c.put("p/2", enc("c"));
    const all = c.watch("p/", 1);
    assert.deepEqual((await take(all, 1)).map(brief), ["3:put:p/2=c"]);
    const live = c.watch("p/");
    await new Promise((r) => setTimeout(r, 100)); // let the first poll reach the server
    await c.delete("p/1");
    await c.put("q/2", enc("d"));
    await c.put("p/3", enc("e"));
    assert.deepEqual((await take(live, 2)).map(brief), ["4:delete:p/1=", "6:put:p/3=e"]);
    assert.deepEqual((await take(all, 2)).map(brief), ["4:delete:p/1=", "6:put:p/3=e"]);
    live.stop();
    all.stop();
    assert.equal((await live[Symbol.asyncIterator]().next()).done, true);
  });

  it("delivers a batch larger than max_events in order across polls", async () => {
    const { s } = await setup();
    const small = fx.client(s.url, { pollMaxEvents: 7 });
    for (let i = 0; i < 40; i++) s.store.put(`k/${String(i).padStart(2, "0")}`, `v${String(i)}`);
    const w = small.watch("k/", 0);
    const evs = await take(w, 40);
    assert.deepEqual(evs.map((e) => e.revision), Array.from({ length: 40 }, (_, i) => i + 1));
    w.stop();
  });
});
