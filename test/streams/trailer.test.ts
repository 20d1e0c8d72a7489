import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import type { GomsNode, ServiceImpl } from "../../src/rpc/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

async function* items(count: number) {
  for (let i = 1; i <= count; i++) yield { n: i };
}

/** Handlers that set ret and trailing metadata as they finish (a failing Count sets them, then throws). */
function trailerImpl(seen: { received: number }): ServiceImpl<typeof StreamTest> {
  return {
    async *count(req, ctx) {
      for (let i = 0; i < req.count; i++) yield { n: i };
      ctx.responseMetadata["x-count"] = String(req.count);
      if (req.failAfter > 0) {
        ctx.ret = 9;
        throw new GomsError("failed at the end", Code.Aborted, { metadata: { "x-why": "asked to" } });
      }
      ctx.ret = 7;
    },
    async sum(reqs, ctx) {
      let total = 0n;
      for await (const r of reqs) {
        seen.received++;
        total += BigInt(r.n);
      }
      ctx.ret = 3;
      ctx.responseMetadata["x-total"] = String(total);
      return { total };
    },
    async *echo(reqs, ctx) {
      for await (const r of reqs) yield r;
      ctx.ret = 5;
      ctx.responseMetadata["x-echo"] = "done";
    },
  };
}

/** The same service reached over TCP from another node, or in-process. */
const setups: Record<string, (seen: { received: number }) => Promise<GomsNode>> = {
  tcp: async (seen) => {
    const server = await nodes.start({ identity: { name: "trailer-server" }, listen: { port: 0 } }, (n) => n.service(StreamTest, trailerImpl(seen)));
    return nodes.start({ identity: { name: "trailer-client" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  },
  "in-process": (seen) => nodes.start({ identity: { name: "trailer-local" } }, (n) => n.service(StreamTest, trailerImpl(seen))),
};

for (const [name, setup] of Object.entries(setups)) {
  describe(`a stream's ret and trailing metadata (${name})`, () => {
    it("detailedClient: a server stream gives messages, then ret and trailer", async () => {
      const c = (await setup({ received: 0 })).detailedClient(StreamTest);
      const s = c.count({ count: 4 });
      const got: number[] = [];
      for await (const m of s.messages) {
        assert.equal(s.ret, 0, "nothing before the end");
        got.push(m.n);
      }
      assert.deepEqual(got, [0, 1, 2, 3]);
      assert.equal(s.ret, 7);
      assert.deepEqual(s.trailer, { "x-count": "4" });
    });

    it("detailedClient: a client stream resolves with message, ret and metadata", async () => {
      const c = (await setup({ received: 0 })).detailedClient(StreamTest);
      const r = await c.sum(items(10));
      assert.equal(r.message.total, 55n);
      assert.equal(r.ret, 3);
      assert.deepEqual(r.metadata, { "x-total": "55" });
    });

    it("detailedClient: a bidi stream gives messages, then ret and trailer", async () => {
      const c = (await setup({ received: 0 })).detailedClient(StreamTest);
      const s = c.echo(items(3));
      const got: number[] = [];
      for await (const m of s.messages) got.push(m.n);
      assert.deepEqual(got, [1, 2, 3]);
      assert.equal(s.ret, 5);
      assert.deepEqual(s.trailer, { "x-echo": "done" });
    });

    it("onTrailer hears a clean end once, and an error's ret and metadata (with what the handler set)", async () => {
      const c = (await setup({ received: 0 })).client(StreamTest);
      const heard: [Record<string, string>, number][] = [];
      const onTrailer = (md: Record<string, string>, ret: number): void => void heard.push([md, ret]);
      let n = 0;
      for await (const _ of c.count({ count: 2 }, { onTrailer })) n++;
      assert.equal(n, 2);
      assert.deepEqual(heard, [[{ "x-count": "2" }, 7]]);

      heard.length = 0;
      const err = await (async () => {
        for await (const _ of c.count({ count: 2, failAfter: 1 }, { onTrailer }));
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(GomsError.is(err) && err.code === Code.Aborted, String(err));
      assert.equal(err.ret, 9);
      assert.deepEqual(err.metadata, { "x-count": "2", "x-why": "asked to" });
      assert.deepEqual(heard, [[{ "x-count": "2", "x-why": "asked to" }, 9]]);

      heard.length = 0;
      assert.equal((await c.sum(items(3), { onTrailer })).total, 6n);
      assert.deepEqual(heard, [[{ "x-total": "6" }, 3]]);
    });

    it("sender: a client stream resolves once every request was sent; server and bidi streams are refused", async () => {
      const seen = { received: 0 };
      const node = await setup(seen);
      const s = node.sender(StreamTest);
      await s.sum(items(50));
      await until(() => seen.received === 50, 5000, "every request reached the handler");
      for (const call of [() => (s.count as unknown as () => Promise<void>)(), () => (s.echo as unknown as () => Promise<void>)()]) {
        await assert.rejects(call(), (e: unknown) => GomsError.is(e) && e.reason === "GOMS_ERR_STREAM_UNSUPPORTED" && e.code === Code.Unimplemented);
      }
    });

    it("broadcast refuses stream methods with a clear reason", async () => {
      const b = (await setup({ received: 0 })).broadcast(StreamTest);
      await assert.rejects((b.count as unknown as (r: object) => Promise<unknown>)({ count: 1 }), (e: unknown) => GomsError.is(e) && e.reason === "GOMS_ERR_STREAM_UNSUPPORTED" && /broadcast/.test(e.message));
    });
  });
}
