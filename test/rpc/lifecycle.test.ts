import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createNode } from "../../src/rpc/index.js";
import { MemoryNetwork } from "../../src/testing/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

describe("lifecycle", () => {
  it("graceful shutdown finishes in-flight calls and refuses new ones", async () => {
    const s = createNode({ identity: { name: "drain" }, listen: { port: 0 } });
    s.service(AddServer, { add: async (req) => (await sleep(200), { sum: req.a }) });
    await s.start();
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const add = c.client(AddServer);
    const inflight = [add.add({ a: 1 }), add.add({ a: 2 })];
    await sleep(50);
    const closed = s.close({ graceMs: 2000 });
    const results = await Promise.all(inflight);
    assert.deepEqual(results.map((r) => r.sum), [1, 2]);
    await closed;
    await assert.rejects(add.add({ a: 3 }, { timeoutMs: 500 }), (e: GomsError) => e.code === Code.Unavailable || e.code === Code.DeadlineExceeded);
  });

  it("shutdown cancels calls still running after the grace period", async () => {
    let reason: unknown;
    const s = createNode({ identity: { name: "stuck" }, listen: { port: 0 } });
    s.service(AddServer, {
      add: (_r, ctx) =>
        new Promise((_, rej) =>
          ctx.signal.addEventListener("abort", () => {
            reason = ctx.signal.reason;
            rej(ctx.signal.reason);
          }),
        ),
    });
    await s.start();
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const outcome = c.client(AddServer).add({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    await sleep(30);
    const t0 = Date.now();
    await s.close({ graceMs: 100 });
    assert.ok(Date.now() - t0 < 1500);
    const err = await outcome;
    assert.ok(GomsError.is(err) && err.code === Code.Unavailable, String(err));
    assert.equal((reason as GomsError).code, Code.Canceled);
  });

  it("hooks: onStart, onStop, peer connect and disconnect", async () => {
    const log: string[] = [];
    const server = createNode({ identity: { name: "srv" }, listen: { port: 0 } });
    server.service(AddServer, { add: () => ({}) });
    await server.start();
    await nodes.start({ identity: { name: "watcher" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } }, (n) =>
      n.service(
        AddServer,
        { add: () => ({}) },
        {
          onStart: () => void log.push("start"),
          onStop: () => void log.push("stop"),
          onPeerConnect: (p) => void log.push(`connect:${p.name}`),
          onPeerDisconnect: (p) => void log.push(`disconnect:${p.name}`),
        },
      ),
    );
    assert.deepEqual(log, ["start", "connect:srv"]);
    await server.close({ graceMs: 100 });
    await until(() => log.includes("disconnect:srv"), 3000, "disconnect hook");
    await nodes.closeAll();
    assert.equal(log.at(-1), "stop");
  });

  it("reconnects with backoff after the peer restarts on the same port", async () => {
    const s1 = createNode({ identity: { name: "srv" }, listen: { port: 0 } });
    s1.service(AddServer, { add: (r) => ({ sum: r.a }) });
    await s1.start();
    const port = s1.port;
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port }], reconnect: { initialMs: 20, maxMs: 200 } } });
    assert.equal((await c.client(AddServer).add({ a: 1 })).sum, 1);
    await s1.close({ graceMs: 100 });
    await assert.rejects(c.client(AddServer).add({ a: 1 }), (e: GomsError) => e.code === Code.Unavailable);
    await nodes.start({ identity: { name: "srv" }, listen: { port } }, (n) => n.service(AddServer, { add: (r) => ({ sum: r.a * 10 }) }));
    await until(() => c.peerList().every((p) => p.state === "ready"), 5000, "reconnect");
    assert.equal((await c.client(AddServer).add({ a: 2 })).sum, 20);
  });

  it("heartbeats detect a peer that went silent (partitioned link)", async () => {
    const net = new MemoryNetwork();
    const fast = { heartbeatMs: 40, heartbeatTimeoutMs: 160 };
    // The client's idle timeout is max(its own, 3 x the heartbeat the server announces),
    // so the server announces a fast heartbeat too; its own idle timeout stays long,
    // so the client is the side that must notice.
    await nodes.start({ identity: { name: "srv" }, listen: { port: 1 }, limits: { connection: { heartbeatMs: 40 } }, transport: net.transport() }, (n) => n.service(AddServer, { add: () => ({}) }));
    const c = await nodes.start({ identity: { name: "c" }, peers: { addresses: [{ host: "127.0.0.1", port: 1 }], reconnect: { initialMs: 5000, maxMs: 5000 } }, limits: { connection: fast }, transport: net.transport() });
    await c.client(AddServer).add({});
    net.setFaults({ blackhole: true });
    // In-memory streams do not keep the event loop alive and heartbeat timers are unref'd.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      const pending = c.client(AddServer).add({}, { timeoutMs: 0 });
      await assert.rejects(pending, (e: GomsError) => e.code === Code.Unavailable && /idle timeout/.test(e.message));
    } finally {
      clearInterval(keepAlive);
    }
  });

  it("refuses to start twice and to register services after start", async () => {
    const n = await nodes.start({ identity: { name: "x" } });
    await assert.rejects(n.start(), (e: GomsError) => e.code === Code.FailedPrecondition);
    assert.throws(() => n.service(AddServer, {}), (e: GomsError) => e.code === Code.FailedPrecondition);
    assert.throws(() => createNode({ identity: { name: "y" } }).service(AddServer, { nope: () => ({}) } as never), (e: GomsError) => e.code === Code.InvalidArgument);
  });
});
