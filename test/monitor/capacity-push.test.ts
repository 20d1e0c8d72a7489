// Monitor pushes carry the node's admission (limit, refused calls, queue time)
// and outlier ejection (ejected peers), the store keeps them within its limits,
// the series gives refused calls per second, and Prometheus exposes the
// ejections. Real nodes on loopback: a node with a limit of 2 refuses calls; a
// caller ejects a peer whose handler hangs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { MonitorService, NodeStatsSchema, OutlierStatsSchema } from "../../src/gen/goms/v1/monitor_pb.js";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { createCollector, createMetrics, createMonitorStore, createMonitoring } from "../../src/monitor/index.js";
import { nodeSummaries } from "../../src/admin/cluster.js";
import { until } from "../helpers.js";
import { afterEachCleanup } from "./push-helpers.js";
import { parseExposition, sampleValue } from "./exposition.js";

const { nodes, cleanups, track } = afterEachCleanup();

describe("capacity figures in monitor pushes", () => {
  it("a refusing node pushes its admission, a caller its ejected peer; the store and the console summary keep them", async () => {
    const store = track(createMonitorStore({ sweepMs: 0 }));
    const admin = await nodes.start({ identity: { name: "admin" }, listen: { port: 0 } }, (n) => n.service(MonitorService, store.service()));

    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    cleanups.push(() => release());
    let held = 0;
    // "tiny" admits 2 calls at once; "hang" answers nothing once its first call arrived; "fine" answers.
    const tiny = await nodes.start({ identity: { name: "tiny" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: admin.port }] }, limits: { adaptiveConcurrency: { initialLimit: 2, minLimit: 2, maxLimit: 2 } } }, (n) =>
      n.service(AddServer, {
        async add(req) {
          held++;
          await gate;
          return { sum: req.a + req.b };
        },
      }),
    );
    const hang = await nodes.start({ identity: { name: "hang" }, listen: { port: 0 } }, (n) => n.service(AddServer, { add: async () => gate.then(() => ({ sum: 0 })) }));
    const fine = await nodes.start({ identity: { name: "fine" }, listen: { port: 0 } }, (n) => n.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) }));

    const toTiny = await nodes.start({ identity: { name: "to-tiny" }, peers: { addresses: [{ host: "127.0.0.1", port: tiny.port }] }, calls: { retryBudget: { maxRetries: 0 } } });
    await toTiny.waitForPeer(5000);
    const calls = Array.from({ length: 5 }, () => toTiny.client(AddServer).add({ a: 1, b: 1 }, { timeoutMs: 30_000 }).catch((e: unknown) => e));
    await until(() => held === 2 && tiny.stats().admission.refusedLimit === 3, 10_000, "2 admitted, 3 refused");

    const caller = await nodes.start({
      identity: { name: "caller" },
      peers: { addresses: [admin, hang, fine].map((n) => ({ host: "127.0.0.1", port: n.port })) },
      calls: { outlierDetection: { stallMs: 200, baseEjectionMs: 60_000, maxEjectedShare: 0.5 } },
    });
    await until(() => caller.stats().peersReady === 3, 5000, "caller's peers ready");
    const add = caller.client(AddServer).add;
    // Calls to "hang" stay outstanding while "fine" answers: "hang" is stalled and ejected.
    const pending: Promise<unknown>[] = [];
    await until(
      () => {
        pending.push(add({ a: 1, b: 2 }, { timeoutMs: 30_000, retry: false }).catch((e: unknown) => e));
        return caller.stats().outliers.ejectedNow === 1;
      },
      10_000,
      "hang ejected",
    );

    const monTiny = track(createMonitoring({ node: tiny, target: "admin" }));
    const monCaller = track(createMonitoring({ node: caller, target: "admin" }));
    assert.equal(await monTiny.pushNow(), true, monTiny.counters().lastError);
    assert.equal(await monCaller.pushNow(), true, monCaller.counters().lastError);

    const t = store.node("tiny")!.latest.admission!;
    assert.equal(t.limit, 2);
    assert.equal(t.inflight, 2);
    assert.equal(t.refusedLimit, 3n);
    assert.equal(t.admitted, BigInt(tiny.stats().admission.admitted));
    const o = store.node("caller")!.latest.outliers!;
    assert.equal(o.ejectedNow, 1);
    assert.equal(o.ejections, 1n);
    assert.deepEqual(
      o.ejected.map((p) => ({ node: p.node, state: p.state, reason: p.reason, ejections: p.ejections })),
      [{ node: "hang", state: "open", reason: "stalled", ejections: 1 }],
    );

    // A second push of tiny: refused calls per second in the series.
    const more = Array.from({ length: 4 }, () => toTiny.client(AddServer).add({ a: 1, b: 1 }, { timeoutMs: 30_000 }).catch((e: unknown) => e));
    await until(() => tiny.stats().admission.refusedLimit === 7, 10_000, "4 more refused");
    assert.equal(await monTiny.pushNow(), true);
    const series = store.series("tiny");
    const last = series[series.length - 1]!;
    assert.ok(last.refusedPerSec > 0, `refusedPerSec ${last.refusedPerSec}`);
    assert.equal(last.admissionLimit, 2);

    // The console's node summary (GET /api/nodes) from the same store.
    const summaries = new Map(nodeSummaries(admin, store).map((s) => [s.name, s]));
    assert.deepEqual(summaries.get("tiny")?.admission && { ...summaries.get("tiny")!.admission!, meanQueueMs: 0 }, {
      limit: 2,
      inflight: 2,
      admitted: tiny.stats().admission.admitted,
      refusedLimit: 7,
      refusedDeadline: 0,
      meanQueueMs: 0,
    });
    assert.deepEqual(summaries.get("caller")?.outliers, { ejectedNow: 1, ejections: 1, ejected: [{ node: "hang", state: "open", reason: "stalled" }] });

    // Prometheus, on the caller's side.
    const collector = createCollector({ node: caller });
    cleanups.push(() => collector.close());
    const { samples } = parseExposition(await createMetrics({ node: caller, collector, processMetrics: false }).metrics());
    assert.equal(sampleValue(samples, "goms_outlier_ejected_peers", { node: "caller" }), 1);
    assert.equal(sampleValue(samples, "goms_outlier_ejections_total", { node: "caller", outcome: "ejected" }), 1);

    release();
    await Promise.all([...calls, ...more, ...pending]);
  });

  it("refuses a push listing more ejected peers than maxEjectedPerNode, and keeps nothing of it", () => {
    const store = track(createMonitorStore({ sweepMs: 0, limits: { maxEjectedPerNode: 3 } }));
    const stats = (n: number) =>
      create(NodeStatsSchema, {
        node: create(NodeIdentitySchema, { name: "x" }),
        intervalMs: 5000,
        outliers: create(OutlierStatsSchema, { ejectedNow: n, ejected: Array.from({ length: n }, (_, i) => ({ node: `p${i}`, state: "open", reason: "stalled" })) }),
      });
    store.push(stats(3));
    assert.throws(() => store.push(stats(4)), (e: Error & { reason?: string }) => e.reason === "GOMS_ERR_MONITOR_TOO_MANY_PEERS");
    assert.equal(store.node("x")?.latest.outliers?.ejected.length, 3);
  });
});
