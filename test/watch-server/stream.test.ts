// Watches as server streams (WatchService.Watch), against real `goms watch`
// child processes: a watch resumes from its revision after the connection
// drops or the server is killed and restarted, with every revision delivered
// exactly once and in order; a resume past the history gives the compacted
// error; a watcher that stops reading costs the server a stream window, not a
// queue of everything written since.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import type { KvEvent, KvWatch } from "../../src/kv/backend.js";
import { oldestRevisionOf, resumeRevisionOf } from "../../src/kv/errors.js";
import { enc, Fixture, processFixture, proxy, rssMiB, startWatchProcess, take } from "./helpers.js";

const { children, client } = processFixture({ timeoutMs: 10_000, retry: { initialMs: 20, maxMs: 200 } });

/** Collects a watch's events in the background until stopped. */
function collect(w: KvWatch): { events: KvEvent[]; done: Promise<unknown> } {
  const events: KvEvent[] = [];
  const done = (async () => {
    for await (const ev of w) events.push(ev);
  })().catch((e: unknown) => e);
  return { events, done };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertExactlyOnce(events: readonly KvEvent[], first: number, last: number): void {
  const revs = events.map((e) => e.revision);
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  assert.equal(revs.length, expected.length, `got ${String(revs.length)} events for ${String(expected.length)} revisions`);
  assert.deepEqual(revs, expected);
}

describe("watch streams", () => {
  it("the client follows with one Watch stream, not polls", async () => {
    const fx = new Fixture();
    try {
      const s = await fx.server();
      const c = fx.client(s.url);
      const w = c.watch("k/", 0);
      s.store.put("k/a", "1");
      assert.deepEqual((await take(w, 1)).map((e) => e.key), ["k/a"]);
      assert.equal(s.poller.streams, 1);
      w.stop();
      await until(() => s.poller.streams === 0, "the stream to end on the server");
      const polling = fx.client(s.url, { watchMode: "poll", pollWaitMs: 1000 });
      const wp = polling.watch("k/", 0);
      assert.deepEqual((await take(wp, 1)).map((e) => e.key), ["k/a"]);
      assert.equal(s.poller.streams, 0);
      wp.stop();
    } finally {
      await fx.close();
    }
  });

  it("while only other keys change, progress messages keep the resume revision up with the store", async () => {
    const fx = new Fixture();
    try {
      const s = await fx.server({ poll: { progressMs: 50 } });
      const w = fx.client(s.url).watch("a/", 0);
      for (let i = 0; i < 20; i++) s.store.put(`b/${String(i)}`, "x");
      await until(() => w.resumeRevision === s.store.revision + 1, `resume revision ${String(s.store.revision + 1)} (at ${String(w.resumeRevision)})`);
      s.store.put("a/1", "y");
      assert.deepEqual((await take(w, 1)).map((e) => e.revision), [21]);
      w.stop();
    } finally {
      await fx.close();
    }
  });

  it("the first message fixes \"from now\": a change made while the connection is down is not lost", async () => {
    const fx = new Fixture();
    try {
      const s = await fx.server();
      s.store.put("k/old", "0");
      const p = await proxy(s.port);
      try {
        const w = fx.client(`watch://127.0.0.1:${String(p.port)}`).watch("k/");
        await until(() => w.resumeRevision === 2, "the first message");
        p.cut();
        s.store.put("k/new", "1");
        assert.deepEqual((await take(w, 1, 5000)).map((e) => `${String(e.revision)}:${e.key}`), ["2:k/new"]);
        w.stop();
      } finally {
        await p.close();
      }
    } finally {
      await fx.close();
    }
  });

  it("connection cut three times during 1500 puts: every revision arrives exactly once, in order", async () => {
    const srv = await startWatchProcess(["--port", "0", "--no-fsync"], children);
    const port = Number(/:(\d+)$/.exec(srv.url)![1]);
    const p = await proxy(port);
    try {
      const writer = client(srv.url);
      const watcher = client(`watch://127.0.0.1:${String(p.port)}`);
      const c = collect(watcher.watch("", 0));
      const total = 1500;
      for (let i = 1; i <= total; i++) {
        await writer.put(`k/${String(i % 37)}`, enc(String(i)));
        if (i % 400 === 0) p.cut(); // mid-stream: batches in flight are lost with the connection
      }
      await until(() => c.events.length >= total, `${String(total)} events (have ${String(c.events.length)})`);
      await new Promise((r) => setTimeout(r, 100)); // a doubled event would arrive now
      assertExactlyOnce(c.events, 1, total);
      assert.equal(c.events.at(-1)!.key, `k/${String(total % 37)}`);
    } finally {
      await p.close();
    }
  });

  it("server killed and restarted (persistent): a caught-up watch resumes exactly once; a lagging one gets the compacted error", async () => {
    const fx = new Fixture();
    const dir = fx.tempDir();
    try {
      const srv1 = await startWatchProcess(["--port", "0", "--dir", dir, "--no-fsync"], children);
      const port = /:(\d+)$/.exec(srv1.url)![1]!;
      const writer = client(srv1.url);
      const live = collect(client(srv1.url).watch("", 0));
      const lagging = client(srv1.url).watch("", 0);
      // 4 KiB values: the 200 events (1.6 MiB with previous values) are more than a stream window holds.
      const value = new Uint8Array(4096);
      for (let i = 1; i <= 200; i++) await writer.put(`k/${String(i % 11)}`, value);
      const firstTen = await take(lagging, 10); // then it stops reading, at revision 10
      await until(() => live.events.length >= 200, "the live watch to catch up");

      srv1.p.kill("SIGKILL");
      await new Promise((r) => srv1.p.once("exit", r));
      const srv2 = await startWatchProcess(["--port", port, "--dir", dir, "--no-fsync"], children);
      assert.equal(srv2.url, srv1.url);
      for (let i = 201; i <= 400; i++) await writer.put(`k/${String(i % 11)}`, value);
      await until(() => live.events.length >= 400, `400 events (have ${String(live.events.length)})`);
      await new Promise((r) => setTimeout(r, 100));
      assertExactlyOnce(live.events, 1, 400);

      // The lagging watch held one batch and its stream a window; the rest died
      // with the first server's history. It reads on: in order, no duplicates, then the clear error.
      const rest = collect(lagging);
      const err = await rest.done;
      assertExactlyOnce([...firstTen, ...rest.events], 1, 10 + rest.events.length);
      assert.ok(GomsError.is(err) && err.code === Code.OutOfRange, String(err));
      assert.equal(resumeRevisionOf(err), 11 + rest.events.length);
      assert.equal(oldestRevisionOf(err), 201, "history restarts after the revision the server reopened at");
    } finally {
      await fx.close();
    }
  });

  it("a watcher past the history's byte budget, without a restart, gets the compacted error", async () => {
    const srv = await startWatchProcess(["--port", "0", "--history-bytes", "256KiB"], children);
    const writer = client(srv.url);
    const w = client(srv.url, { pollMaxEvents: 5 }).watch("", 0);
    for (let i = 0; i < 5; i++) await writer.put(`k/${String(i)}`, enc("x"));
    const firstFive = await take(w, 5);
    // Now it stops reading while 2 MiB go by: the history keeps 256 KiB of it.
    const value = new Uint8Array(16 * 1024);
    for (let i = 0; i < 128; i++) await writer.put(`big/${String(i)}`, value);
    const rest = collect(w);
    const err = await rest.done;
    assertExactlyOnce([...firstFive, ...rest.events], 1, 5 + rest.events.length);
    assert.ok(GomsError.is(err) && err.code === Code.OutOfRange, String(err));
    assert.match(err.message, /compacted/);
    assert.equal(resumeRevisionOf(err), 6 + rest.events.length);
  });

  it("40 watchers that never read: each costs the server a window, not the 8 MiB written since", async (t) => {
    // A stalled stream's server side is suspended once its window (256 KiB)
    // is full, holding one more batch: it stops reading the history. So when
    // the watcher reads again it gets what was in flight (its client's batch,
    // the window, the server's batch: at most ~48 events of 16 KiB), then the
    // compacted error, since the history (256 KiB) moved on. A stream that read
    // on regardless would hand it all 512 events, and, encoded per stream,
    // hold 40 x 8 MiB.
    const srv = await startWatchProcess(["--port", "0", "--no-fsync", "--history-bytes", "256KiB"], children);
    const writer = client(srv.url, { timeoutMs: 30_000 });
    const stalled = client(srv.url);
    const watches = Array.from({ length: 40 }, () => stalled.watch("", 0));
    await writer.put("warm", enc("up"));
    const before = rssMiB(srv.p.pid!);
    const value = new Uint8Array(16 * 1024).fill(1);
    for (let i = 0; i < 512; i++) await writer.put(`v/${String(i)}`, value); // new keys: no previous values
    const grown = rssMiB(srv.p.pid!) - before;
    t.diagnostic(`server RSS grew ${grown.toFixed(1)} MiB`);
    const got = await Promise.all(
      watches.map(async (w) => {
        const c = collect(w);
        const err = await c.done;
        assert.ok(GomsError.is(err) && err.code === Code.OutOfRange, String(err));
        assertExactlyOnce(c.events, 1, c.events.length);
        return c.events.length;
      }),
    );
    t.diagnostic(`events delivered before the compacted error: ${String(Math.min(...got))}..${String(Math.max(...got))} of 513`);
    assert.ok(Math.max(...got) <= 64, `a stalled watcher got ${String(Math.max(...got))} events`);
    assert.ok(grown < 100, `server RSS grew ${grown.toFixed(1)} MiB`);
  });
});
