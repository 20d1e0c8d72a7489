// Every call path runs the same pipeline: interceptors once, the same limits
// and draining in-process as over the network, and ownership of messages.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { type Interceptor } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { MethodCatalog } from "../../src/admin/methods.js";
import { callJson } from "../../src/cli/call.js";
import { NodeSet, sleep, until } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

function counting(): { interceptor: Interceptor; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    interceptor: (next) => (req) => {
      if (!req.method.parent.typeName.startsWith("goms.v1.")) seen.push(`${req.method.name}${req.oneWay ? " oneway" : ""}${req.raw ? " raw" : ""}`);
      return next(req);
    },
  };
}

describe("client interceptors run exactly once on every call path", () => {
  it("typed, detailed, one-way, raw, broadcast, in-process, admin call form and goms call", async () => {
    let added = 0;
    const db = await nodes.start({ identity: { name: "db0" }, listen: { port: 0 } }, (n) =>
      n.service(DB, { query: (r) => ({ value: r.key }), update: () => {
        added++;
        return {};
      } }),
    );
    const c = counting();
    const me = await nodes.start({ identity: { name: "me" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] }, calls: { interceptors: [c.interceptor] } }, (n) =>
      n.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) }),
    );
    const step = async (what: string, f: () => Promise<unknown>, expect: string[]): Promise<void> => {
      c.seen.length = 0;
      await f();
      assert.deepEqual(c.seen, expect, what);
    };
    await step("typed remote", () => me.client(DB).query({ key: "a" }), ["Query"]);
    await step("detailed", () => me.detailedClient(DB).query({ key: "a" }), ["Query"]);
    await step("in-process", () => me.client(AddServer).add({ a: 1, b: 2 }), ["Add"]);
    await step("one-way remote", () => me.sender(DB).update({ key: "k" }), ["Update oneway"]);
    await until(() => added === 1, 2000, "one-way delivered");
    await step("one-way in-process", () => me.sender(AddServer).add({ a: 1 }), ["Add oneway"]);
    await step("raw", () => me.rawCall(DB.method.query, new Uint8Array()), ["Query raw"]);
    await step("broadcast: once per target", () => me.broadcast(DB).query({ key: "b" }), ["Query"]);
    await step("admin call form", () => new MethodCatalog(me).call("DB", "Query", '{"key":"x"}', { timeoutMs: 2000 }), ["Query"]);
    await step("goms call", () => callJson({ node: me, pinned: undefined }, "DB.Query", '{"key":"y"}', { json: true, timeoutMs: 2000, metadata: {} }), ["Query"]);
  });

  it("an interceptor can fail a call, change its metadata, and sees the response", async () => {
    const db = await nodes.start({ identity: { name: "db1" }, listen: { port: 0 } }, (n) => n.service(DB, { query: (_r, ctx) => ({ value: ctx.metadata["x-who"] ?? "" }) }));
    const tag: Interceptor = (next) => async (req) => {
      if (req.metadata?.["x-block"] !== undefined) throw new GomsError("blocked", Code.PermissionDenied);
      req.metadata = { ...req.metadata, "x-who": "tagged" };
      const res = await next(req);
      return { ...res, ret: 42 };
    };
    const me = await nodes.start({ identity: { name: "me1" }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] }, calls: { interceptors: [tag] } });
    const r = await me.detailedClient(DB).query({ key: "a" });
    assert.equal(r.message.value, "tagged");
    assert.equal(r.ret, 42);
    await assert.rejects(me.client(DB).query({}, { metadata: { "x-block": "1" } }), (e: GomsError) => e.code === Code.PermissionDenied);
  });
});

describe("in-process calls take the server invocation path", () => {
  it("respect maxConcurrentCalls like a remote call", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const n = await nodes.start({ identity: { name: "lim" }, limits: { maxConcurrentCalls: 2 } }, (x) =>
      x.service(DB, {
        async query() {
          await gate;
          return { value: "done" };
        },
      }),
    );
    const db = n.client(DB);
    const a = db.query({});
    const b = db.query({});
    await assert.rejects(db.query({}), (e: GomsError) => e.code === Code.ResourceExhausted && e.reason === "GOMS_ERR_TOO_MANY_CALLS");
    release();
    assert.deepEqual((await Promise.all([a, b])).map((r) => r.value), ["done", "done"]);
    assert.equal((await db.query({})).value, "done", "slots are released");
  });

  it("drain: a node closing lets in-process calls finish within the grace period and refuses new ones", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let served = 0;
    const n = await nodes.start({ identity: { name: "drain" } }, (x) =>
      x.service(DB, {
        async query(req) {
          served++;
          if (req.key === "slow") await gate;
          return { value: req.key };
        },
      }),
    );
    const db = n.client(DB);
    const slow = db.query({ key: "slow" });
    await until(() => served === 1, 1000, "handler running");
    const closed = n.close({ graceMs: 5000 });
    await sleep(20);
    await assert.rejects(db.query({ key: "late" }), (e: GomsError) => e.code === Code.Unavailable && e.reason === "GOMS_ERR_NODE_NOT_RUNNING");
    release();
    assert.equal((await slow).value, "slow", "the in-flight call finished");
    await closed;
    assert.equal(served, 1);
  });

  it("the handler never gets the caller's object, and the caller never gets the handler's", async () => {
    const kept = { value: "cached" };
    let seen: { key: string } | undefined;
    const n = await nodes.start({ identity: { name: "own" } }, (x) =>
      x.service(DB, {
        query(req) {
          seen = req;
          req.key = "mutated by handler";
          return kept;
        },
      }),
    );
    const req = { key: "mine" };
    const res = await n.client(DB).query(req);
    assert.equal(req.key, "mine", "the caller's request is untouched");
    assert.notEqual(seen, req);
    res.value = "mutated by caller";
    assert.equal(kept.value, "cached", "the handler's object is untouched");
  });
});
