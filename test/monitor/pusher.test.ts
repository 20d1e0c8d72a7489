import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { MonitorService } from "../../src/gen/goms/v1/monitor_pb.js";
import { createRegistry, embeddedKv } from "../../src/registry/index.js";
import { createMonitorStore, createMonitoring } from "../../src/monitor/index.js";
import { until } from "../helpers.js";
import { afterEachCleanup } from "./push-helpers.js";

const { nodes, cleanups, track } = afterEachCleanup();

describe("pusher", () => {
  it("delivers snapshots to a store hosted on another node, found through the registry", async () => {
    const kv = embeddedKv();
    cleanups.push(() => void kv.close());
    const registry = createRegistry({ kv });
    const store = track(createMonitorStore({ sweepMs: 0 }));
    await nodes.start({ identity: { name: "admin" }, listen: { port: 0 }, discovery: { registry } }, (n) => n.service(MonitorService, store.service()));
    const worker = await nodes.start({ identity: { name: "worker" }, listen: { port: 0 }, discovery: { registry } }, (n) => n.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) }));
    const caller = await nodes.start({ identity: { name: "caller" }, discovery: { registry } });
    const mon = await track(createMonitoring({ node: worker, intervalMs: 100 })).start();
    await track(createMonitoring({ node: caller, intervalMs: 100 })).start();
    for (let i = 0; i < 5; i++) await caller.client(AddServer).add({ a: i, b: 1 });

    await until(() => store.node("worker") !== undefined && store.node("caller") !== undefined, 5000, "pushes from both nodes");
    await until(() => (store.node("worker")?.latest.methods.find((m) => m.service === "goms.examples.v1.AddServer")?.calls ?? 0n) === 5n, 5000, "worker's counts");
    // The caller pushes on its own timer: its latest snapshot may predate the last call.
    await until(() => store.node("caller")?.latest.methods.find((m) => m.side === "client" && m.method === "Add")?.calls === 5n, 5000, "caller's counts");
    const w = store.node("worker")!;
    assert.equal(w.stale, false);
    assert.equal(w.latest.node?.name, "worker");
    assert.ok(w.latest.intervalMs > 0);
    assert.ok(store.series("worker").length >= 1);
    const c = store.node("caller")!.latest.methods.find((m) => m.side === "client" && m.method === "Add");
    assert.equal(c?.calls, 5n, JSON.stringify(mon.counters()));
    // A push's deadline is its interval (100 ms here): on a loaded machine one may miss it.
    // Any other failure (auth, identity, limits) is a bug.
    const { failures, lastError } = mon.counters();
    assert.ok(failures === 0 || /deadline/.test(lastError ?? ""), lastError);
    assert.ok(mon.counters().pushes >= 1);
  });

  it("a node without the admin node's token: the push fails and lastError says the admin refused it; with the token it lands", async () => {
    const store = track(createMonitorStore({ sweepMs: 0 }));
    const admin = await nodes.start({ identity: { name: "admin" }, listen: { port: 0 }, auth: { token: "s3cret" } }, (n) => n.service(MonitorService, store.service()));
    const peers = { addresses: [{ host: "127.0.0.1", port: admin.port }], reconnect: { initialMs: 50, maxMs: 100 } };
    const stranger = await nodes.start({ identity: { name: "stranger" }, peers });
    const mon = track(createMonitoring({ node: stranger, intervalMs: 100 }));
    await until(() => stranger.peerList().some((p) => p.lastError !== undefined), 5000, "HELLO refused");
    assert.equal(await mon.pushNow(), false);
    assert.match(mon.counters().lastError ?? "", /refused this node: .*invalid or missing token; set auth.peerToken/);
    const member = await nodes.start({ identity: { name: "member" }, peers, auth: { peerToken: "s3cret" } });
    await member.waitForPeer(5000);
    assert.equal(await track(createMonitoring({ node: member })).pushNow(), true);
    assert.deepEqual(
      store.nodes().map((n) => n.name),
      ["member"],
    );
  });

  it("pins pushes to `target`, honours PushResponse.interval_ms, counts failures without throwing", async () => {
    const storeA = track(createMonitorStore({ sweepMs: 0, pushIntervalMs: 150 }));
    const storeB = track(createMonitorStore({ sweepMs: 0 }));
    const a = await nodes.start({ identity: { name: "admin-a" }, listen: { port: 0 } }, (n) => n.service(MonitorService, storeA.service()));
    const b = await nodes.start({ identity: { name: "admin-b" }, listen: { port: 0 } }, (n) => n.service(MonitorService, storeB.service()));
    const peers = [
      { host: "127.0.0.1", port: a.port },
      { host: "127.0.0.1", port: b.port },
    ];
    const node = await nodes.start({ identity: { name: "pinned" }, peers: { addresses: peers } });
    const mon = await track(createMonitoring({ node, intervalMs: 60_000, target: "admin-a" })).start();
    for (let i = 0; i < 3; i++) assert.equal(await mon.pushNow(), true);
    assert.equal(storeA.series("pinned").length, 3);
    assert.equal(storeB.node("pinned"), undefined);
    assert.equal(mon.intervalMs, 150, "the admin asked for 150 ms");
    await until(() => mon.counters().pushes >= 4, 3000, "timer push at the new interval");

    const lonely = await nodes.start({ identity: { name: "lonely" }, calls: { defaultTimeoutMs: 200 } });
    const failing = await track(createMonitoring({ node: lonely, intervalMs: 100 })).start();
    assert.equal(await failing.pushNow(), false);
    await until(() => failing.counters().failures >= 2, 3000, "timer failures");
    assert.equal(failing.counters().pushes, 0);
    assert.ok(failing.counters().lastError);
  });

  it("starts once, and pushes nothing by timer after close()", async () => {
    const lonely = await nodes.start({ identity: { name: "lonely" }, calls: { defaultTimeoutMs: 200 } });
    const mon = createMonitoring({ node: lonely, intervalMs: 100 });
    assert.equal(await mon.start(), mon);
    await assert.rejects(mon.start(), (e: unknown) => e instanceof Error && /already started/.test(e.message));
    await until(() => mon.counters().failures >= 1, 3000, "a timer push");
    await mon.close({ graceMs: 1000 });
    const after = mon.counters().failures + mon.counters().pushes;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mon.counters().failures + mon.counters().pushes, after, "no push after close()");
  });
});
