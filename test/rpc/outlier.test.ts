// The per-peer breaker and outlier detector: the detector alone on a fake
// clock (cap, growing ejections, half-open probes, what counts as a failure),
// then nodes over real TCP (a node that fails every call is ejected; one that
// refuses with the retry-elsewhere hint is not).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { defaultOutlierOptions, OutlierDetector, type OutlierOptions } from "../../src/internal/health/outlier.js";
import { isNodeFailure, type PeerHealth } from "../../src/internal/health/peer-health.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { until } from "../helpers.js";

const timeout = (): GomsError => new GomsError("deadline", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" });

function detector(o: Partial<OutlierOptions>, ready: number, probeOk: () => boolean) {
  const d = new OutlierDetector({ ...defaultOutlierOptions, ...o }, { ready: () => ready, probe: () => Promise.resolve(probeOk()) });
  d.stop();
  return d;
}

function fail(h: PeerHealth, n: number, err: GomsError = timeout()): void {
  for (let i = 0; i < n; i++) {
    h.sent();
    h.error(err);
  }
}

describe("outlier detector", () => {
  it("what counts as the node failing", () => {
    assert.equal(isNodeFailure(timeout()), true);
    assert.equal(isNodeFailure(new GomsError("lost", Code.Unavailable, { reason: "GOMS_ERR_CONNECTION_LOST" })), true);
    assert.equal(isNodeFailure(new GomsError("stopped reading", Code.ResourceExhausted, { reason: "GOMS_ERR_PEER_NOT_READING" })), true);
    // A refusal, a draining node, an application error, an answered deadline, a cancellation: not the node failing.
    assert.equal(isNodeFailure(new GomsError("overloaded", Code.ResourceExhausted, { metadata: { "x-goms-retry": "elsewhere" } })), false);
    assert.equal(isNodeFailure(new GomsError("draining", Code.Unavailable, { reason: "GOMS_ERR_NODE_DRAINING" })), false);
    assert.equal(isNodeFailure(new GomsError("no such key", Code.NotFound)), false);
    assert.equal(isNodeFailure(new GomsError("deadline too short", Code.DeadlineExceeded)), false);
    assert.equal(isNodeFailure(new GomsError("cancelled", Code.Canceled)), false);
  });

  it("consecutive failures open the breaker; refusals and application errors do not", () => {
    const d = detector({ consecutiveFailures: 3 }, 3, () => true);
    const a = d.track(() => "a");
    d.track(() => "b");
    d.track(() => "c");
    fail(a, 10, new GomsError("overloaded", Code.ResourceExhausted, { metadata: { "x-goms-retry": "elsewhere" } }));
    fail(a, 10, new GomsError("bad", Code.InvalidArgument));
    fail(a, 2);
    assert.equal(a.state, "closed");
    fail(a, 1);
    assert.equal(a.state, "open");
    assert.equal(a.routable, false);
    assert.equal(a.reason, "consecutive-failures");
  });

  it("caps the share ejected at once, and never ejects the last ready peer", () => {
    const d = detector({ consecutiveFailures: 1 }, 3, () => true);
    const [a, b, c] = ["a", "b", "c"].map((n) => d.track(() => n));
    fail(a!, 1);
    fail(b!, 1);
    fail(c!, 1);
    assert.deepEqual([a!.state, b!.state, c!.state], ["open", "closed", "closed"], "floor(0.5 x 3) = 1 ejected at most");
    assert.equal(d.stats().capped, 2);
    const solo = detector({ consecutiveFailures: 1, maxEjectedShare: 1 }, 1, () => true);
    const only = solo.track(() => "only");
    fail(only, 5);
    assert.equal(only.state, "closed", "the last ready peer is never ejected");
  });

  it("half-open: a failed probe re-opens for longer; an answered probe closes", async () => {
    let probeOk = false;
    const d = detector({ consecutiveFailures: 1, baseEjectionMs: 1000 }, 2, () => probeOk);
    const a = d.track(() => "a");
    d.track(() => "b");
    const t = performance.now();
    fail(a, 1);
    const first = a.until - t;
    d.sweep(t + 500);
    assert.equal(a.state, "open", "still within its ejection period");
    d.sweep(a.until + 1);
    assert.equal(a.state, "half-open");
    await until(() => a.state !== "half-open", 1000, "probe settled");
    assert.equal(a.state, "open", "the probe failed");
    assert.ok(a.until - performance.now() > first, "the next ejection is longer");
    probeOk = true;
    d.sweep(a.until + 1);
    await until(() => a.state !== "half-open", 1000, "probe settled");
    assert.equal(a.state, "closed");
    assert.equal(a.routable, true);
    assert.deepEqual([d.stats().probes, d.stats().probesFailed], [2, 1]);
  });

  it("ejects a peer whose error rate stands out, not peers that all fail alike", () => {
    const d = detector({ consecutiveFailures: 0, minCalls: 10, windowMs: 1000, stallMs: 0 }, 3, () => true);
    const [a, b, c] = ["a", "b", "c"].map((n) => d.track(() => n));
    const t = performance.now();
    for (const h of [a!, b!, c!]) for (let i = 0; i < 20; i++) {
      h.sent();
      h.onAnswer(undefined);
    }
    fail(a!, 30);
    d.sweep(t + 1001);
    assert.equal(a!.state, "open");
    assert.equal(a!.reason, "error-rate");
    const all = detector({ consecutiveFailures: 0, stallMs: 0 }, 3, () => true);
    const peers = ["a", "b", "c"].map((n) => all.track(() => n));
    for (const h of peers) fail(h, 30);
    all.sweep(t + 1001);
    assert.deepEqual(peers.map((h) => h.state), ["closed", "closed", "closed"]);
  });

  it("ejects a peer that stopped answering while another answers", () => {
    const d = detector({ consecutiveFailures: 0, stallMs: 750 }, 2, () => true);
    const [a, b] = ["a", "b"].map((n) => d.track(() => n));
    a!.sent();
    b!.sent();
    b!.onAnswer(undefined);
    const now = performance.now();
    // a: a call outstanding for 500 ms, b answered 10 ms ago.
    a!.busySince = now - 500;
    b!.lastAnswerAt = now - 10;
    d.sweep(now);
    assert.equal(a!.state, "closed");
    // a: 800 ms without an answer; b answered 10 ms ago.
    a!.busySince = now - 800;
    d.sweep(now);
    assert.equal(a!.state, "open");
    assert.equal(a!.reason, "stalled");
  });
});

describe("breaker between nodes (real TCP)", () => {
  const started: GomsNode[] = [];
  after(() => Promise.all(started.map((n) => n.close({ graceMs: 0 }))));

  async function db(name: string, query: () => { value: string }): Promise<GomsNode> {
    const n = createNode({ identity: { name }, listen: { port: 0 }, limits: { adaptiveConcurrency: false } });
    n.service(DB, { query, update: () => ({}) });
    started.push(await n.start());
    return n;
  }

  it("a node that fails every call unavailable is ejected; one that refuses with the retry-elsewhere hint is not", async () => {
    const broken = await db("broken", () => {
      throw new GomsError("down", Code.Unavailable);
    });
    const refusing = await db("refusing", () => {
      throw new GomsError("busy", Code.ResourceExhausted, { metadata: { "x-goms-retry": "elsewhere" } });
    });
    const good = await db("good", () => ({ value: "good" }));
    const q = createNode({
      identity: { name: "q" },
      peers: { addresses: [broken, refusing, good].map((n) => ({ host: "127.0.0.1", port: n.port! })) },
      calls: { retryBudget: { ratio: 1, minPerSecond: 1000 }, outlierDetection: { maxEjectedShare: 1 } },
    });
    started.push(await q.start());
    await until(() => q.stats().peersReady === 3, 5000, "3 peers ready");
    const client = q.client(DB);
    for (let i = 0; i < 60; i++) await client.query({ key: "k" }, { retry: false }).catch(() => undefined);
    const peers = new Map(q.stats().outliers.peers.map((p) => [p.node, p]));
    assert.equal(peers.get("broken")?.state, "open");
    assert.equal(peers.get("refusing")?.state, "closed", "refusals never count as the node failing");
    assert.equal(peers.get("refusing")?.failed, 0);
    assert.equal(peers.get("broken")?.failed, 5, "no call went to the broken node once its breaker opened (5 failures in a row)");
    assert.ok((peers.get("refusing")?.answered ?? 0) > 20, "the refusing node kept taking calls");
  });
});
