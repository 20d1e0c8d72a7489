import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { afterEach, describe, it } from "node:test";
import { type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

function inflight(n: GomsNode): number {
  let total = 0;
  total += n.stats().outgoingCalls;
  return total;
}

describe("deadlines and cancellation", () => {
  it("a call past its deadline fails deadline_exceeded, the server's signal fires, nothing leaks", async () => {
    const aborted: string[] = [];
    const s = await nodes.start({ identity: { name: "slow" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(_req, ctx) {
          return new Promise((_, reject) => {
            ctx.signal.addEventListener("abort", () => {
              aborted.push((ctx.signal.reason as GomsError).code === Code.DeadlineExceeded ? "deadline" : "cancel");
              reject(ctx.signal.reason);
            });
          });
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const t0 = Date.now();
    const calls = Array.from({ length: 50 }, () => c.client(AddServer).add({}, { timeoutMs: 80 }));
    const results = await Promise.allSettled(calls);
    assert.ok(results.every((r) => r.status === "rejected" && (r.reason as GomsError).code === Code.DeadlineExceeded));
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(inflight(c), 0, "client pending table is empty");
    await until(() => aborted.length === 50, 2000, "server signals");
    let serverCalls = 0;
    const info = await c.client((await import("../../src/gen/goms/v1/node_pb.js")).NodeService).info({}, { node: "slow" });
    serverCalls = info.callsInFlight;
    assert.equal(serverCalls, 0, "no call in flight on the server besides this Info call");
  });

  it("aborting the signal cancels the call on both sides", async () => {
    let serverSaw: unknown;
    const s = await nodes.start({ identity: { name: "slow" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(_req, ctx) {
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              serverSaw = ctx.signal.reason;
              reject(ctx.signal.reason);
            }),
          );
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const ac = new AbortController();
    const p = c.client(AddServer).add({}, { signal: ac.signal });
    await sleep(30);
    ac.abort();
    await assert.rejects(p, (e: GomsError) => e.code === Code.Canceled);
    await until(() => serverSaw !== undefined, 2000, "server abort");
    assert.equal((serverSaw as GomsError).code, Code.Canceled);
    assert.equal(inflight(c), 0);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(c.client(AddServer).add({}, { signal: pre.signal }), (e: GomsError) => e.code === Code.Canceled);
  });

  it("many calls sharing one signal: one abort listener per connection, abort cancels only the calls still waiting", async () => {
    const release: Array<() => void> = [];
    let cancelled = 0;
    const s = await nodes.start({ identity: { name: "slow" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(req, ctx) {
          if (req.a === 0) return { sum: 1 };
          return new Promise((resolve, reject) => {
            release.push(() => resolve({ sum: 2 }));
            ctx.signal.addEventListener("abort", () => {
              cancelled++;
              reject(ctx.signal.reason);
            });
          });
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const ac = new AbortController();
    const add = c.client(AddServer);
    // Finished calls leave the watch list; the listener stays single.
    for (let i = 0; i < 20; i++) assert.equal((await add.add({ a: 0 }, { signal: ac.signal })).sum, 1);
    const waiting = Array.from({ length: 10 }, () => add.add({ a: 1 }, { signal: ac.signal }));
    await until(() => release.length === 10, 2000, "all calls reached the server");
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    release.shift()!(); // one finishes normally before the abort
    assert.equal((await waiting[0]!).sum, 2);
    ac.abort();
    for (const p of waiting.slice(1)) await assert.rejects(p, (e: GomsError) => e.code === Code.Canceled);
    await until(() => cancelled === 9, 2000, "server saw 9 cancels");
    assert.equal(inflight(c), 0);
  });

  it("the deadline travels on the wire and nested calls inherit what remains", async () => {
    let innerRemaining: number | undefined;
    let outerRemaining: number | undefined;
    const db = await nodes.start({ identity: { name: "db" }, listen: { port: 0 } }, (n) =>
      n.service(DB, {
        query(_req, ctx) {
          innerRemaining = ctx.timeRemaining();
          return { value: String(ctx.metadata["x-trace"]) };
        },
      }),
    );
    const mid = await nodes.start({ identity: { name: "mid" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } }, (n) =>
      n.service(AddServer, {
        async add(_req, ctx) {
          outerRemaining = ctx.timeRemaining();
          await sleep(100);
          const r = await n.client(DB).query({ key: "k" }, { parent: ctx });
          return { sum: Number(r.value === "t-1") };
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: mid.port }] } });
    const res = await c.client(AddServer).add({}, { timeoutMs: 1000, metadata: { "x-trace": "t-1" } });
    assert.equal(res.sum, 1, "metadata inherited");
    assert.ok(outerRemaining! <= 1000 && outerRemaining! > 800, `outer ${outerRemaining}`);
    // ~900 ms left after the 100 ms sleep; the wire carries whole milliseconds.
    assert.ok(innerRemaining! <= 905 && innerRemaining! > 600, `inner ${innerRemaining}`);
    // A parent whose deadline is shorter than the nested work: the nested call fails with deadline_exceeded.
    const mid2 = await nodes.start({ identity: { name: "mid2" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } }, (n) =>
      n.service(AddServer, {
        async add(_req, ctx) {
          await sleep(150);
          await n.client(DB).query({}, { parent: ctx });
          return {};
        },
      }),
    );
    const c2 = await nodes.start({ identity: { name: "c2" }, peers: { addresses: [{ host: "127.0.0.1", port: mid2.port }] } });
    await assert.rejects(c2.client(AddServer).add({}, { timeoutMs: 100 }), (e: GomsError) => e.code === Code.DeadlineExceeded);
  });

  it("nested calls inherit the deadline and metadata by default, without passing parent", async () => {
    let inner: { left: number | undefined; trace: string | undefined } = { left: undefined, trace: undefined };
    const db = await nodes.start({ identity: { name: "db" }, listen: { port: 0 } }, (n) =>
      n.service(DB, {
        query(_req, ctx) {
          inner = { left: ctx.timeRemaining(), trace: ctx.metadata["x-trace"] };
          return {};
        },
      }),
    );
    const mid = await nodes.start({ identity: { name: "mid" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } }, (n) =>
      n.service(AddServer, {
        async add() {
          await sleep(50);
          await n.client(DB).query({});
          return {};
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: mid.port }] } });
    await c.client(AddServer).add({}, { timeoutMs: 600, metadata: { "x-trace": "t-2" } });
    assert.equal(inner.trace, "t-2");
    assert.ok(inner.left !== undefined && inner.left <= 555 && inner.left > 300, `inner ${inner.left}`);
    // inheritContext: false turns it off: the nested call gets the default 30 s.
    const mid2 = await nodes.start({ identity: { name: "mid2" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] }, calls: { inheritContext: false } }, (n) =>
      n.service(AddServer, { add: async () => (await n.client(DB).query({}), {}) }),
    );
    const c2 = await nodes.start({ identity: { name: "c2" }, peers: { addresses: [{ host: "127.0.0.1", port: mid2.port }] } });
    await c2.client(AddServer).add({}, { timeoutMs: 600 });
    assert.ok(inner.left! > 29_000, `inner ${inner.left}`);
  });

  it("in-process calls honour deadlines and signals too", async () => {
    const n = await nodes.start({ identity: { name: "solo" } }, (x) =>
      x.service(AddServer, {
        add: (_r, ctx) => new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason))),
      }),
    );
    await assert.rejects(n.client(AddServer).add({}, { timeoutMs: 30 }), (e: GomsError) => e.code === Code.DeadlineExceeded);
  });

  it("rejects invalid timeouts", async () => {
    const n = await nodes.start({ identity: { name: "solo" } }, (x) => x.service(AddServer, { add: () => ({}) }));
    await assert.rejects(n.client(AddServer).add({}, { timeoutMs: -1 }), (e: GomsError) => e.code === Code.InvalidArgument);
  });
});
