import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { WatchService } from "../../src/watch/index.js";
import { dec, enc, Fixture } from "./helpers.js";

const fx = new Fixture();
after(() => fx.close());

const isCode = (code: Code) => (e: unknown) => GomsError.is(e) && e.code === code;

describe("watch server commands over TCP", () => {
  it("put/get/range/delete/deletePrefix, with revisions and CAS", async () => {
    const s = await fx.server();
    const c = fx.client(s.url);
    assert.equal(c.kind, "watch");
    assert.equal(await c.put("a/1", enc("one")), 1);
    assert.equal(await c.put("a/2", enc("two")), 2);
    assert.equal(await c.put("b", enc("bee")), 3);
    const got = await c.get("a/1");
    assert.deepEqual({ ...got, value: dec(got?.value) }, { key: "a/1", value: "one", modRevision: 1, lease: "" });
    assert.equal(await c.get("missing"), undefined);
    const r = await c.range("a/");
    assert.equal(r.revision, 3);
    assert.deepEqual(r.entries.map((e) => [e.key, dec(e.value), e.modRevision]), [["a/1", "one", 1], ["a/2", "two", 2]]);
    assert.equal((await c.range("")).entries.length, 3);

    // Compare-and-set: the store's FailedPrecondition comes through unchanged.
    await assert.rejects(c.put("a/1", enc("x"), { prevRevision: 2 }), isCode(Code.FailedPrecondition));
    await assert.rejects(c.put("a/1", enc("x"), { prevRevision: 0 }), isCode(Code.FailedPrecondition));
    assert.equal(await c.put("a/1", enc("uno"), { prevRevision: 1 }), 4);
    assert.equal(await c.put("new", enc("n"), { prevRevision: 0 }), 5);
    await assert.rejects(c.delete("a/1", { prevRevision: 1 }), isCode(Code.FailedPrecondition));
    assert.equal(await c.delete("a/1", { prevRevision: 4 }), 6);
    assert.equal(await c.delete("a/1"), 6, "no-op delete keeps the revision");
    assert.deepEqual(await c.deletePrefix("a/"), { deleted: 1, revision: 7 });
    await assert.rejects(c.put("", enc("x")), isCode(Code.InvalidArgument));
    assert.equal(s.store.revision, 7);
  });

  it("hash commands: hset/hget/hgetall/hdel/del/hincrby/keyPrefix", async () => {
    const s = await fx.server();
    const c = fx.client(s.url);
    await c.hset("nodeRegister:1", "gate0", enc("{}"));
    await c.hset("nodeRegister:1", "db0", enc("{db}"));
    await c.hset("nodeRegister:2", "q0", enc("{q}"));
    await c.hset("nodeRegister:1", "__proto__", enc("p"));
    assert.equal(dec(await c.hget("nodeRegister:1", "db0")), "{db}");
    assert.equal(await c.hget("nodeRegister:1", "nope"), undefined);
    const all = await c.hgetall("nodeRegister:1");
    assert.deepEqual(Object.keys(all).sort(), ["__proto__", "db0", "gate0"]);
    assert.equal(dec(all["gate0"]), "{}");
    assert.deepEqual(await c.keyPrefix("nodeRegister:"), ["nodeRegister:1", "nodeRegister:2"]);
    assert.equal(await c.hincrby("node_load:gate", "gate0", 5), 5);
    assert.equal(await c.hincrby("node_load:gate", "gate0", -7), -2);
    await c.hset("h", "s", enc("abc"));
    await assert.rejects(c.hincrby("h", "s", 1), isCode(Code.InvalidArgument));
    await c.hset("h", "big", enc(String(Number.MAX_SAFE_INTEGER)));
    await assert.rejects(c.hincrby("h", "big", 1), isCode(Code.OutOfRange));
    assert.deepEqual(await c.hdel("nodeRegister:1", "db0"), { deleted: 1, revision: s.store.revision });
    await c.hset("nodeRegister:1", "gate0", new Uint8Array()); // empty value deletes (Go seed)
    assert.equal(await c.hget("nodeRegister:1", "gate0"), undefined);
    await c.put("nodeRegister:2", enc("plain"));
    assert.equal((await c.del("nodeRegister:2")).deleted, 2);
    await assert.rejects(c.hset("bad\u0000key", "f", enc("v")), isCode(Code.InvalidArgument));
    await assert.rejects(c.hget("k", ""), isCode(Code.InvalidArgument));
  });

  it("a token is required when the server sets one", async () => {
    const s = await fx.server({ auth: { token: "s3cret" } });
    const good = fx.client(s.url, { auth: { token: "s3cret" } });
    assert.equal(await good.put("k", enc("v")), 1);
    const none = fx.client(s.url);
    await assert.rejects(none.get("k"), isCode(Code.Unauthenticated));
    const wrong = fx.client(s.url, { auth: { token: "nope" } });
    await assert.rejects(wrong.put("k", enc("x")), isCode(Code.Unauthenticated));
    // A watch does not retry forever against a server that refuses its token.
    const w = wrong.watch("", 0);
    await assert.rejects(w[Symbol.asyncIterator]().next(), isCode(Code.Unauthenticated));
    assert.equal(dec((await good.get("k"))?.value), "v");
  });

  it("bad inputs through jsonCall are InvalidArgument; huge max_events is clamped", async () => {
    const s = await fx.server({ poll: { maxEvents: 5 } });
    const raw = createNode({ identity: { name: "raw" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    await raw.start();
    try {
      // JSON decoded with the descriptor on this side: what a JSON client can express, checked by the server.
      const call = (m: string, json: string) => {
        const desc = WatchService.methods.find((x) => x.name === m)!;
        let msg;
        try {
          msg = fromJsonString(desc.input, json);
        } catch (e) {
          return Promise.reject(new GomsError((e as Error).message, Code.InvalidArgument));
        }
        return raw.invoke(desc, msg, { timeoutMs: 3000 });
      };
      await assert.rejects(call("Put", '{"key": 5, "value": "eA=="}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Put", '{"key": "k", "value": "not base64!"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Put", '{"key": "k", "lease": "abc"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Put", '{"key": "k", "prevRevision": "-3"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Put", '{"key": "k", "lease": "123"}'), isCode(Code.NotFound));
      await assert.rejects(call("Grant", '{"ttlMs": "0"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("KeepAlive", "{}"), isCode(Code.InvalidArgument));
      await assert.rejects(call("HIncrBy", '{"key": "h", "field": "f", "n": "9007199254740993"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Poll", '{"fromRevision": "-1"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Poll", '{"fromRevision": "1152921504606846976"}'), isCode(Code.InvalidArgument));
      await assert.rejects(call("Poll", '{"waitMs": "x"}'), isCode(Code.InvalidArgument));
      for (let i = 0; i < 12; i++) await call("Put", `{"key": "k${String(i)}", "value": "eA=="}`);
      const polled = await call("Poll", '{"fromRevision": "1", "maxEvents": 4294967295}');
      const out = JSON.parse(toJsonString(WatchService.method.poll.output, polled.message as never)) as {
        events: { revision: string }[];
        nextRevision: string;
        revision: string;
      };
      assert.equal(out.events.length, 5, "clamped to the server's maxEvents");
      assert.equal(out.nextRevision, "6");
      assert.equal(out.revision, "12");
      // The typed client sees the same through the generated descriptors.
      const typed = await raw.client(WatchService).get({ key: "k0" }, { timeoutMs: 3000 });
      assert.equal(typed.kv?.modRevision, 1n);
    } finally {
      await raw.close({ graceMs: 0 });
    }
  });
});
