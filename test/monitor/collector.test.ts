import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import type { MethodStats, NodeStats } from "../../src/gen/goms/v1/monitor_pb.js";
import { createCollector, type Collector } from "../../src/monitor/index.js";
import { NodeSet } from "../helpers.js";

const nodes = new NodeSet();
const collectors: Collector[] = [];
afterEach(async () => {
  for (const c of collectors.splice(0)) c.close();
  await nodes.closeAll();
});

function addServer(name: string): Promise<GomsNode> {
  return nodes.start({ identity: { name }, listen: { port: 0 } }, (n) =>
    n.service(AddServer, {
      add(req, ctx) {
        if (req.a < 0) throw new GomsError("negative", Code.InvalidArgument);
        if (req.a === 7) ctx.ret = 42;
        return { sum: req.a + req.b };
      },
    }),
  );
}

function method(s: NodeStats, side: string): MethodStats {
  const m = s.methods.find((x) => x.side === side && x.service === "goms.examples.v1.AddServer" && x.method === "Add");
  assert.ok(m, `no ${side} stats for AddServer.Add in ${s.node?.name ?? "?"}`);
  return m;
}

function collect(node: GomsNode): Collector {
  const c = createCollector({ node });
  collectors.push(c);
  return c;
}

describe("collector", () => {
  it("counts calls, errors by code and ret over TCP, on both sides, per node", async () => {
    const s = await addServer("mon-s");
    const c = await nodes.start({ identity: { name: "mon-c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const other = await nodes.start({ identity: { name: "mon-other" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const cs = collect(s);
    const cc = collect(c);
    const co = collect(other);
    const add = c.client(AddServer);
    for (let i = 0; i < 10; i++) await add.add({ a: i, b: 1 });
    for (let i = 0; i < 3; i++) await assert.rejects(add.add({ a: -1 }));
    await other.client(AddServer).add({ a: 1 });

    const ss = cs.snapshot();
    const sm = method(ss, "server");
    assert.equal(sm.calls, 14n);
    assert.equal(sm.intervalCalls, 14n);
    assert.deepEqual({ ...sm.errorsByCode }, { [Code.InvalidArgument]: 3n });
    assert.equal(sm.retNonzero, 1n); // a === 7
    assert.equal(sm.intervalBuckets.length, 16);
    assert.equal(sm.intervalBuckets.reduce((a, b) => a + b, 0n), 14n);
    assert.ok(sm.p99Ms > 0 && sm.p99Ms >= sm.p50Ms, `p50 ${sm.p50Ms} p99 ${sm.p99Ms}`);
    assert.equal(ss.node?.name, "mon-s");
    assert.equal(ss.serverConnections, 2);
    assert.ok(ss.rssBytes > 0n && ss.heapUsedBytes > 0n);
    assert.ok(ss.cpuPercent >= 0 && ss.eventLoopUtilization >= 0 && ss.eventLoopUtilization <= 1);

    const cm = method(cc.snapshot(), "client");
    assert.equal(cm.calls, 13n, "mon-other's call is not counted by mon-c's collector");
    assert.deepEqual({ ...cm.errorsByCode }, { [Code.InvalidArgument]: 3n });
    assert.equal(method(co.snapshot(), "client").calls, 1n);

    // The next snapshot keeps cumulative counts and starts a new interval.
    await add.add({ a: 1 });
    const sm2 = method(cs.snapshot(), "server");
    assert.equal(sm2.calls, 15n);
    assert.equal(sm2.intervalCalls, 1n);
    assert.equal(sm2.intervalBuckets.reduce((a, b) => a + b, 0n), 1n);
  });

  it("reports ready peers, calls in flight and stops counting after close()", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const s = await nodes.start({ identity: { name: "mon-slow" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        async add(req) {
          await gate;
          return { sum: req.a };
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "mon-c2" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const cs = collect(s);
    const cc = collect(c);
    const pending = Promise.all([c.client(AddServer).add({ a: 1 }), c.client(AddServer).add({ a: 2 })]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(cs.snapshot().callsInFlight, 2);
    const snap = cc.snapshot();
    assert.equal(snap.peersReady, 1);
    assert.equal(snap.callsInFlight, 2);
    release();
    await pending;
    cs.close();
    await c.client(AddServer).add({ a: 3 });
    assert.equal(method(cs.snapshot(), "server").calls, 2n);
  });
});
