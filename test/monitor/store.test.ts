import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUCKET_BOUNDS_MS, createMonitorStore, mergedP99, quantileFromBuckets, seriesPoint, type MonitorEvent } from "../../src/monitor/index.js";
import { bucketsWith, nodeStats } from "./fixtures.js";
import { create } from "@bufbuild/protobuf";
import { AdmissionStatsSchema, HedgeStatsSchema } from "../../src/gen/goms/v1/monitor_pb.js";

describe("series math", () => {
  it("quantiles interpolate inside the bucket and respect the observed max", () => {
    // 100 calls in (0.5, 1] ms.
    const b = bucketsWith([3, 100]);
    assert.equal(quantileFromBuckets(b, 0.5), 0.75);
    assert.equal(quantileFromBuckets(b, 0.99), 0.995);
    assert.equal(quantileFromBuckets(b, 0.99, 0.8), 0.8);
    assert.equal(quantileFromBuckets(bucketsWith([15, 10]), 0.99, 7000), 5000 + 2000 * 0.99);
    assert.equal(quantileFromBuckets(bucketsWith(), 0.99), 0);
    assert.equal(BUCKET_BOUNDS_MS.length, 15);
  });

  it("qps and errors/s come from cumulative deltas over the node's time", () => {
    const prev = nodeStats("n", { t: 10_000, uptime: 10_000, methods: [{ calls: 100, errors: 5 }, { calls: 7, side: "client" }] });
    const cur = nodeStats("n", {
      t: 15_000,
      uptime: 15_000,
      cpu: 12.5,
      rss: 1000,
      lag: 3,
      methods: [{ calls: 600, errors: 15, intervalCalls: 500, buckets: bucketsWith([3, 500]), p99: 0.99 }, { calls: 1007, side: "client" }],
    });
    const p = seriesPoint(cur, prev, 42);
    assert.equal(p.t, 42);
    assert.equal(p.qps, 100); // 500 served calls in 5 s; client calls do not count for a serving node
    assert.equal(p.errorsPerSec, 2);
    assert.equal(p.cpuPercent, 12.5);
    assert.equal(p.rssBytes, 1000);
    assert.equal(p.eventLoopLagMs, 3);
    assert.ok(Math.abs(p.p99Ms - 0.99) < 1e-9);
  });

  it("hedges/s and refused/s come from cumulative deltas; none on a first push or after a restart", () => {
    const at = (t: number, uptime: number, sent: number, refused: number) => {
      const s = nodeStats("n", { t, uptime });
      s.hedges = create(HedgeStatsSchema, { sent: BigInt(sent), won: 1n, refused: 2n });
      s.admission = create(AdmissionStatsSchema, { refusedLimit: BigInt(refused) });
      return s;
    };
    const prev = at(10_000, 10_000, 40, 5);
    const cur = at(14_000, 14_000, 60, 25);
    const p = seriesPoint(cur, prev, 0);
    assert.equal(p.hedgesPerSec, 5); // 20 second copies in 4 s
    assert.equal(p.refusedPerSec, 5);
    assert.equal(seriesPoint(cur, undefined, 0).hedgesPerSec, 0);
    assert.equal(seriesPoint(at(20_000, 1000, 3, 0), cur, 0).hedgesPerSec, 0, "restarted: the counters started over");
    assert.equal(seriesPoint(nodeStats("n", { t: 15_000, uptime: 15_000 }), nodeStats("n", { t: 10_000, uptime: 10_000 }), 0).hedgesPerSec, 0, "a node that reports no hedges");
  });

  it("first push and restarts use interval counts; client-only nodes count calls made", () => {
    const first = nodeStats("n", { t: 5000, uptime: 5000, interval: 2000, methods: [{ calls: 50, intervalCalls: 20, side: "client" }] });
    assert.equal(seriesPoint(first, undefined, 0).qps, 10);
    const before = nodeStats("n", { t: 5000, uptime: 900_000, methods: [{ calls: 10_000 }] });
    const restarted = nodeStats("n", { t: 10_000, uptime: 5000, interval: 5000, methods: [{ calls: 40, intervalCalls: 40 }] });
    assert.equal(seriesPoint(restarted, before, 0).qps, 8);
  });

  it("node p99 merges method histograms, weighted by calls, capped at the largest method p99", () => {
    const s = nodeStats("n", {
      t: 0,
      uptime: 1,
      methods: [
        { method: "Fast", calls: 990, intervalCalls: 990, buckets: bucketsWith([0, 990]), p99: 0.1 },
        { method: "Slow", calls: 10, intervalCalls: 10, buckets: bucketsWith([10, 10]), p99: 250 },
      ],
    });
    // 1% of calls are slow: the node p99 sits at the fast/slow boundary, not at Slow's p99.
    const p = mergedP99(s, "server");
    assert.ok(p <= 0.1 + 1e-9, `p99 ${p}`);
    const s2 = nodeStats("n", {
      t: 0,
      uptime: 1,
      methods: [
        { method: "Fast", calls: 900, intervalCalls: 900, buckets: bucketsWith([0, 900]), p99: 0.1 },
        { method: "Slow", calls: 100, intervalCalls: 100, buckets: bucketsWith([10, 100]), p99: 240 },
      ],
    });
    const p2 = mergedP99(s2, "server");
    assert.ok(p2 > 100 && p2 <= 240, `p99 ${p2}`);
  });
});

describe("monitor store", () => {
  it("keeps latest stats and a rolling series, emits stats events", () => {
    let t = 1_000_000;
    const store = createMonitorStore({ now: () => t, sweepMs: 0 });
    const events: MonitorEvent[] = [];
    store.subscribe((e) => events.push(e));
    store.push(nodeStats("a", { t: 0, uptime: 5000, methods: [{ calls: 10, intervalCalls: 10 }] }));
    t += 5000;
    store.push(nodeStats("a", { t: 5000, uptime: 10_000, methods: [{ calls: 60, intervalCalls: 50 }] }));
    const v = store.node("a");
    assert.ok(v);
    assert.equal(v.stale, false);
    assert.equal(v.receivedAt, t);
    assert.equal(v.latest.methods[0]?.calls, 60n);
    assert.deepEqual(
      store.series("a").map((p) => p.qps),
      [2, 10],
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ["stats", "stats"],
    );
    assert.deepEqual(store.series("nope"), []);
    assert.throws(() => store.push(nodeStats("", { t: 0, uptime: 0 })));
    store.close();
  });

  it("marks silent nodes stale (3 intervals), fresh again when pushes resume, forgets them after the window", () => {
    let t = 0;
    const store = createMonitorStore({ now: () => t, sweepMs: 0, windowMs: 60_000 });
    const events: string[] = [];
    store.subscribe((e) => events.push(`${e.type}:${e.node}`));
    store.push(nodeStats("a", { t, uptime: 1000, interval: 1000 }));
    store.push(nodeStats("b", { t, uptime: 1000, interval: 10_000 }));
    t = 3000;
    store.sweep();
    assert.equal(store.node("a")?.stale, false, "exactly 3 intervals is not stale yet");
    t = 3001;
    assert.equal(store.node("a")?.stale, true, "reads check staleness lazily");
    assert.equal(store.node("b")?.stale, false, "b pushes every 10 s");
    assert.deepEqual(events.slice(2), ["stale:a"]);
    store.sweep();
    assert.deepEqual(events.slice(2), ["stale:a"], "stale is announced once");
    t = 4000;
    store.push(nodeStats("a", { t, uptime: 5000, interval: 1000 }));
    assert.equal(store.node("a")?.stale, false);
    assert.deepEqual(events.slice(2), ["stale:a", "fresh:a", "stats:a"]);
    t = 4000 + 3000 + 60_001;
    store.sweep();
    assert.equal(store.node("a"), undefined, "stale for longer than the window: forgotten");
    assert.deepEqual(
      store.nodes().map((n) => n.name),
      ["b"],
    );
    store.close();
  });

  it("stale by timer, with a fixed staleAfterMs", async () => {
    const store = createMonitorStore({ staleAfterMs: 50, sweepMs: 10 });
    const got = new Promise<MonitorEvent>((resolve) => store.subscribe((e) => e.type === "stale" && resolve(e)));
    store.push(nodeStats("a", { t: Date.now(), uptime: 1 }));
    const keepAlive = setTimeout(() => undefined, 5000); // the store's timer is unref'd
    const ev = await got;
    clearTimeout(keepAlive);
    assert.deepEqual(ev, { type: "stale", node: "a" });
    store.close();
  });

  it("caps the series (ring buffer, >= 720 points) and keeps only the window", () => {
    let t = 0;
    const store = createMonitorStore({ now: () => t, sweepMs: 0, windowMs: 3_600_000 });
    for (let i = 0; i < 4000; i++) {
      t = i * 1000;
      store.push(nodeStats("a", { t, uptime: t + 1, interval: 1000, methods: [{ calls: i }] }));
    }
    const s = store.series("a");
    assert.equal(s.length, 3600);
    assert.equal(s[0]!.t, 400_000);
    assert.equal(s.at(-1)!.t, 3_999_000);
    const small = createMonitorStore({ now: () => t, sweepMs: 0, windowMs: 60_000, maxPoints: 10 });
    for (let i = 0; i < 800; i++) small.push(nodeStats("a", { t: i, uptime: i + 1 }));
    assert.equal(small.series("a").length, 720);
    store.close();
    small.close();
  });
});
