import { createJsonCaller } from "../../src/json-call/index.js";
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import diagnostics_channel from "node:diagnostics_channel";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type CallEvent } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddRequestSchema, AddResponseSchema, AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet, sleep, withNodeOptions, type NodeOptionsPatch } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

function addServer(name: string, extra: NodeOptionsPatch = {}) {
  return nodes.start(withNodeOptions({ identity: { name }, listen: { port: 0 } }, extra), (n) =>
    n.service(AddServer, {
      add(req, ctx) {
        if (req.a < 0) throw new GomsError("a must not be negative", Code.InvalidArgument);
        if (req.a === 7) ctx.ret = 42;
        if (req.a === 13) throw new Error("unlucky");
        if (req.a === 99) throw new GomsError("too big", Code.OutOfRange, { reason: "APP_TOO_BIG" });
        ctx.responseMetadata["x-served-by"] = name;
        return { sum: req.a + req.b };
      },
    }),
  );
}

function clientFor(port: number, extra: NodeOptionsPatch = {}) {
  return nodes.start(withNodeOptions({ identity: { name: `client-${port}` }, peers: { addresses: [{ host: "127.0.0.1", port }] } }, extra));
}

describe("calls over TCP", () => {
  it("typed call returns the response", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    const res = await c.client(AddServer).add({ a: 1, b: 2 });
    assert.equal(res.sum, 3);
    assert.equal(res.$typeName, "goms.examples.v1.AddResponse");
  });

  it("application return code and metadata reach the caller", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    const r = await c.detailedClient(AddServer).add({ a: 7, b: 1 }, { metadata: { "x-req": "1" } });
    assert.equal(r.message.sum, 8);
    assert.equal(r.ret, 42);
    assert.equal(r.metadata["x-served-by"], "rpc0");
  });

  it("errors keep their code; plain errors become unknown", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    const add = c.client(AddServer);
    await assert.rejects(add.add({ a: -1 }), (e: unknown) => GomsError.is(e) && e.code === Code.InvalidArgument && e.rawMessage === "a must not be negative");
    await assert.rejects(add.add({ a: 13 }), (e: unknown) => GomsError.is(e) && e.code === Code.Unknown && /unlucky/.test(e.message));
  });

  it("a stable reason id crosses the wire (Status.reason), even one this build does not know", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    await assert.rejects(
      c.client(AddServer).add({ a: 99 }),
      (e: unknown) => GomsError.is(e) && e.code === Code.OutOfRange && e.reason === "APP_TOO_BIG" && e.rawMessage === "too big",
    );
    await assert.rejects(c.client(AddServer).add({ a: 13 }), (e: unknown) => GomsError.is(e) && e.reason === undefined);
  });

  it("unknown service is not_found, unknown method unimplemented", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    await assert.rejects(
      createJsonCaller(c).call("goms.examples.v1.AddServer/Nope", "{}"),
      (e: GomsError) => e.code === Code.Unimplemented && e.reason === "GOMS_ERR_UNKNOWN_METHOD",
    );
    await assert.rejects(c.rawCall(DB.method.update, new Uint8Array(), { node: "rpc0" }), (e: GomsError) => e.code === Code.NotFound);
    await assert.rejects(c.client(DB).query({ key: "a" }), (e: GomsError) => e.code === Code.Unavailable && /no node hosting goms.examples.v1.DB/.test(e.message));
    await assert.rejects(c.rawCall(DB.method.query, new Uint8Array(), { node: "rpc0" }), (e: GomsError) => e.code === Code.NotFound);
  });

  it("request metadata reaches the handler", async () => {
    let seen: Record<string, string> = {};
    const s = await nodes.start({ identity: { name: "md" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(_req, ctx) {
          seen = { ...ctx.metadata };
          return {};
        },
      }),
    );
    const c = await clientFor(s.port);
    await c.client(AddServer).add({}, { metadata: { "x-user": "ünïcode ok", trace: "t1" } });
    assert.deepEqual(seen, { "x-user": "ünïcode ok", trace: "t1" });
  });

  it("raw calls by descriptor, and JSON calls by name (descriptors fetched from the peer)", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    const raw = await c.rawCall(AddServer.method.add, toBinary(AddRequestSchema, create(AddRequestSchema, { a: 2, b: 3 })));
    assert.equal(fromBinary(AddResponseSchema, raw.message).sum, 5);
    const json = await createJsonCaller(c).call("goms.examples.v1.AddServer.Add", '{"a":4,"b":5}');
    assert.deepEqual(JSON.parse(json.json), { sum: 9 });
    await assert.rejects(createJsonCaller(c).call("AddServer.Add", '{"a":"x"}'), (e: GomsError) => e.code === Code.InvalidArgument);
  });

  it("one-way send delivers without a response", async () => {
    let got = 0;
    const s = await nodes.start({ identity: { name: "sink" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(req) {
          got += req.a;
          return {};
        },
      }),
    );
    const c = await clientFor(s.port);
    const send = c.sender(AddServer);
    await send.add({ a: 1 });
    await send.add({ a: 2 });
    for (let i = 0; i < 100 && got < 3; i++) await sleep(5);
    assert.equal(got, 3);
  });

  it("load-balances across nodes, pins with { node }, broadcasts to all", async () => {
    const a = await addServer("db0");
    const b = await addServer("db1");
    const c = await nodes.start({ identity: { name: "q" }, peers: { addresses: [{ host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port }] } });
    const add = c.detailedClient(AddServer);
    const served = new Set<string>();
    for (let i = 0; i < 10; i++) served.add((await add.add({ a: 1 })).metadata["x-served-by"]!);
    assert.deepEqual([...served].sort(), ["db0", "db1"]);
    for (let i = 0; i < 4; i++) assert.equal((await add.add({ a: 1 }, { node: "db1" })).metadata["x-served-by"], "db1");
    const all = await c.broadcast(AddServer).add({ a: 2, b: 2 });
    assert.deepEqual(all.map((r) => r.node).sort(), ["db0", "db1"]);
    assert.ok(all.every((r) => r.ok && r.message.sum === 4));
    await assert.rejects(add.add({ a: 1 }, { node: "nope" }), (e: GomsError) => e.code === Code.Unavailable);
  });

  it("a service hosted in the same process runs in-process", async () => {
    let peer = "";
    const n = await nodes.start({ identity: { name: "solo" } }, (x) =>
      x.service(AddServer, {
        add(req, ctx) {
          peer = ctx.peer.address;
          ctx.ret = 5;
          return { sum: req.a + req.b };
        },
      }),
    );
    const r = await n.detailedClient(AddServer).add({ a: 2, b: 2 });
    assert.equal(r.message.sum, 4);
    assert.equal(r.ret, 5);
    assert.equal(peer, "local");
    const j = await createJsonCaller(n).call("AddServer.Add", '{"a":1,"b":1}');
    assert.deepEqual(JSON.parse(j.json), { sum: 2 });
  });

  it("client and server interceptors compose in order", async () => {
    const order: string[] = [];
    const s = await nodes.start(
      {
        identity: { name: "ic" },
        listen: { port: 0 },
        calls: { serverInterceptors: [
          (next) => async (req, ctx) => {
            order.push("s1");
            const r = await next(req, ctx);
            order.push("s1-after");
            return r;
          },
        ] },
      },
      (n) => n.service(AddServer, { add: (req) => ({ sum: req.a + req.b }) }),
    );
    const c = await nodes.start({
      identity: { name: "icc" },
      peers: { addresses: [{ host: "127.0.0.1", port: s.port }] },
      calls: { interceptors: [
        (next) => async (req) => {
          order.push("c1");
          req.metadata = { ...req.metadata, "x-c1": "1" };
          return next(req);
        },
        (next) => async (req) => {
          order.push("c2");
          const res = await next(req);
          order.push("c2-after");
          return res;
        },
      ] },
    });
    assert.equal((await c.client(AddServer).add({ a: 1, b: 1 })).sum, 2);
    assert.deepEqual(order, ["c1", "c2", "s1", "s1-after", "c2-after"]);
  });

  it("introspection: ping, info and descriptors", async () => {
    const s = await addServer("rpc0");
    const c = await clientFor(s.port);
    const { NodeService } = await import("../../src/gen/goms/v1/node_pb.js");
    const ns = c.client(NodeService);
    const pong = await ns.ping({ payload: new Uint8Array([1, 2]) }, { node: "rpc0" });
    assert.deepEqual([...pong.payload], [1, 2]);
    const info = await ns.info({}, { node: "rpc0" });
    assert.equal(info.node?.name, "rpc0");
    assert.ok(info.services.some((x) => x.name === "goms.examples.v1.AddServer" && x.methods[0]?.idempotent));
    const d = await ns.descriptors({ services: ["AddServer"] }, { node: "rpc0" });
    const { createFileRegistry } = await import("@bufbuild/protobuf");
    const reg = createFileRegistry(d.files!);
    assert.ok(reg.getService("goms.examples.v1.AddServer"));
    assert.ok(reg.getMessage("goms.examples.v1.AddRequest"));
  });

  it("diagnostics_channel reports calls on both sides", async () => {
    const events: CallEvent[] = [];
    const onEv = (m: unknown): void => void events.push(m as CallEvent);
    diagnostics_channel.subscribe("goms:rpc:server", onEv);
    diagnostics_channel.subscribe("goms:rpc:client", onEv);
    try {
      const s = await addServer("rpc0");
      const c = await clientFor(s.port);
      await c.client(AddServer).add({ a: 7 });
      await assert.rejects(c.client(AddServer).add({ a: -1 }));
      await sleep(10);
    } finally {
      diagnostics_channel.unsubscribe("goms:rpc:server", onEv);
      diagnostics_channel.unsubscribe("goms:rpc:client", onEv);
    }
    const server = events.filter((e) => e.side === "server" && e.service.endsWith("AddServer"));
    assert.equal(server.length, 2);
    assert.equal(server[0]!.ret, 42);
    assert.equal(server[0]!.code, 0);
    assert.equal(server[1]!.code, Code.InvalidArgument);
    assert.equal(events.filter((e) => e.side === "client").length, 2);
    assert.ok(server.every((e) => e.durationMs >= 0 && e.method === "Add"));
  });
});
