import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";
import { expectEndsWith, newProbe, pair } from "./fixture.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

describe("server streaming over TCP", () => {
  it("delivers every message in order, then ends", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const got: number[] = [];
    for await (const m of client.client(StreamTest).count({ count: 50, size: 3 })) {
      assert.equal(m.payload.length, 3);
      got.push(m.n);
    }
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
    await until(() => probe.finallyRan === 1);
  });

  it("messages larger than a chunk and than the window arrive whole", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    let n = 0;
    for await (const m of client.client(StreamTest).count({ count: 3, size: 700 * 1024 })) {
      assert.equal(m.payload.length, 700 * 1024);
      n++;
    }
    assert.equal(n, 3);
  });

  it("back-pressure: a slow consumer suspends the producer within the window", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const it = client.client(StreamTest).count({ count: 10_000, size: 1024 }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    let consumed = 0;
    for (; consumed < 5; consumed++) assert.equal((await it.next()).done, false);
    // Let the producer run as far as the window lets it.
    await sleep(500);
    const window = 256 * 1024;
    const perMessage = 1024 + 8;
    const inFlight = probe.produced - consumed;
    assert.ok(probe.produced < 10_000, "the producer is suspended");
    assert.ok(inFlight <= Math.ceil(window / perMessage) + 2, `at most a window of messages is in flight (${inFlight})`);
    const before = probe.produced;
    await sleep(200);
    assert.equal(probe.produced, before, "nothing more is produced while nobody reads");
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      assert.equal(r.value.n, consumed);
      consumed++;
    }
    assert.equal(consumed, 10_000);
  });

  it("breaking out of for-await runs the server generator's finally and aborts ctx.signal", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    let n = 0;
    for await (const m of client.client(StreamTest).count({ count: 100_000, size: 10 })) {
      n = m.n;
      if (n === 20) break;
    }
    await until(() => probe.finallyRan === 1 && probe.aborted === 1, 5000, "server generator finished");
    assert.ok(probe.produced < 100_000);
  });

  it("aborting the client's signal ends the stream both sides", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const ac = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of client.client(StreamTest).count({ count: 100_000, size: 10 }, { signal: ac.signal })) {
          seen.push(m.n);
          if (m.n === 10) ac.abort();
        }
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.Canceled,
    );
    await until(() => probe.finallyRan === 1 && probe.aborted === 1);
  });

  it("a server error ends the iterator with code, message and ret", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of client.client(StreamTest).count({ count: 10, failAfter: 4 })) seen.push(m.n);
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.FailedPrecondition && e.rawMessage === "failed on purpose" && e.ret === 77,
    );
    assert.deepEqual(seen, [0, 1, 2, 3]);
  });

  it("the deadline ends a stream whose consumer is slow, and the server generator", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    await assert.rejects(
      (async () => {
        for await (const _m of client.client(StreamTest).count({ count: 100_000, size: 1024 }, { timeoutMs: 300 })) await sleep(5);
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.DeadlineExceeded,
    );
    await until(() => probe.finallyRan === 1 && probe.aborted === 1);
  });

  it("the server node dying mid-stream ends the stream with unavailable", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    const it = client.client(StreamTest).count({ count: 100_000, size: 1024 }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await server.close({ graceMs: 0 });
    await expectEndsWith(it, Code.Unavailable);
  });

  it("draining lets an open stream run for the grace period, then ends it with unavailable", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    const it = client.client(StreamTest).count({ count: 100_000, size: 1024 }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    const closing = server.close({ graceMs: 400 });
    // Still flowing during the grace period.
    for (let i = 0; i < 50; i++) assert.equal((await it.next()).done, false);
    await closing;
    await expectEndsWith(it, Code.Unavailable);
  });
});
