// Latency sampling of hot methods (NodeOptions.callTiming): which calls get a
// clock read, with what weight, and that counts stay exact end to end.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { TimingSampler, timingPolicy } from "../../src/rpc/timing-sampler.js";

describe("TimingSampler", () => {
  it("times every call of a cold method and one in `every` of a hot one, with that weight", () => {
    const s = new TimingSampler(timingPolicy({ hotCallsPerSec: 100, every: 8 }));
    let clock = 0;
    // Cold: 50 calls in the first second, all timed with weight 1.
    for (let i = 0; i < 50; i++) {
      assert.equal(s.next(), 1);
      s.timed((clock += 20));
    }
    // The window rolled at 1000 ms with 50 calls/s: still cold.
    assert.equal(s.next(), 1);
    s.timed(clock);
    // Hot: 1000 calls within the next second.
    for (let i = 0; i < 1000; i++) {
      if (s.next() > 0) s.timed((clock += 1));
    }
    s.timed((clock += 1000));
    const weights: number[] = [];
    for (let i = 0; i < 64; i++) weights.push(s.next());
    assert.equal(weights.filter((w) => w === 8).length, 8);
    assert.equal(weights.filter((w) => w === 0).length, 56);
    // Back to cold: few calls over a long time; the next window decides.
    s.timed((clock += 5000));
    assert.equal(s.next(), 1);
  });

  it("policy input: 'all' times everything, `every` becomes a power of two", () => {
    assert.deepEqual(timingPolicy("all"), { hotCallsPerSec: Infinity, every: 1 });
    assert.equal(timingPolicy({ every: 10 }).every, 8);
    assert.equal(timingPolicy({ every: 0 }).every, 1);
    assert.equal(timingPolicy(undefined).every, 8);
    assert.equal(timingPolicy(undefined).hotCallsPerSec, 1000);
  });
});

describe("call recorders with sampled timing", () => {
  const nodes: GomsNode[] = [];
  after(async () => {
    for (const n of nodes) await n.close({ graceMs: 0 });
  });

  it("counts every call exactly, and timed weights add up to the calls on both sides", async () => {
    const server = createNode({ identity: { name: "srv" }, listen: { port: 0 }, calls: { callTiming: { hotCallsPerSec: 10, every: 4 } } });
    server.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) });
    await server.start();
    nodes.push(server);
    const client = createNode({ identity: { name: "cli" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] }, calls: { callTiming: { hotCallsPerSec: 10, every: 4 } } });
    await client.start();
    nodes.push(client);
    const seen = { client: { calls: 0, weight: 0, untimed: 0 }, server: { calls: 0, weight: 0, untimed: 0 } };
    const rec = {
      record(side: "client" | "server", _s: string, _m: string, code: number, _ret: number, durationMs: number, weight: number) {
        assert.equal(code, 0);
        const t = seen[side];
        t.calls++;
        t.weight += weight;
        if (weight === 0) {
          assert.ok(Number.isNaN(durationMs));
          t.untimed++;
        } else assert.ok(durationMs >= 0);
      },
    };
    client.addCallRecorder(rec);
    server.addCallRecorder(rec);
    const add = client.client(AddServer);
    const deadline = Date.now() + 3000;
    let n = 0;
    // Long enough for the rate window (1 s) to see the method as hot.
    while (Date.now() < deadline && (seen.client.untimed === 0 || n < 3000)) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => add.add({ a: i, b: 1 })));
      n += 50;
    }
    assert.equal(seen.client.calls, n);
    assert.equal(seen.server.calls, n);
    assert.ok(seen.client.untimed > 0 && seen.server.untimed > 0, "the hot method was sampled on both sides");
    for (const side of ["client", "server"] as const) {
      // The weights estimate the calls: off by less than one sampling period per rate switch.
      assert.ok(Math.abs(seen[side].weight - n) <= 8, `${side}: weight ${seen[side].weight} for ${n} calls`);
    }
  });
});
