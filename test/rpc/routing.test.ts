import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { BenchService } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { HashRing } from "../../src/rpc/hash-ring.js";
import { RetryBudget } from "../../src/rpc/retry-budget.js";
import { NodeSet, withNodeOptions, type NodeOptionsPatch } from "../helpers.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

async function dbNodes(count: number, extra: (i: number) => NodeOptionsPatch = () => ({})): Promise<GomsNode[]> {
  const out: GomsNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = `db${i}`;
    out.push(
      await nodes.start(withNodeOptions({ identity: { name }, listen: { port: 0 } }, extra(i)), (n) =>
        n.service(DB, {
          query: (req) => ({ value: `${name}:${req.key}` }),
          update: () => ({}),
        }),
      ),
    );
  }
  return out;
}

function caller(servers: GomsNode[], extra: NodeOptionsPatch = {}): Promise<GomsNode> {
  return nodes.start(withNodeOptions({ identity: { name: "q" }, peers: { addresses: servers.map((s) => ({ host: "127.0.0.1", port: s.port })) } }, extra));
}

async function tally(c: GomsNode, n: number, opts: { shardKey?: (i: number) => string } = {}): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const db = c.client(DB);
  for (let i = 0; i < n; i++) {
    const r = await db.query({ key: String(i) }, opts.shardKey ? { shardKey: opts.shardKey(i) } : {});
    const who = r.value.split(":")[0]!;
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return counts;
}

describe("routing", () => {
  it("round-robin spreads evenly; random and least-inflight use every node", async () => {
    const servers = await dbNodes(3);
    const rr = await tally(await caller(servers), 30);
    assert.deepEqual([...rr.values()], [10, 10, 10]);
    for (const balancer of ["random", "least-inflight"] as const) {
      const c = await nodes.start({ identity: { name: `q-${balancer}` }, peers: { addresses: servers.map((s) => ({ host: "127.0.0.1", port: s.port })) }, calls: { balancer } });
      const counts = await tally(c, 90);
      assert.equal(counts.size, 3, `${balancer} used ${[...counts.keys()].join(",")}`);
    }
  });

  it("shardKey: the same key always reaches the same node; keys spread", async () => {
    const servers = await dbNodes(3);
    const c = await caller(servers);
    const db = c.client(DB);
    const owner = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 30; k++) {
        const r = await db.query({ key: "x" }, { shardKey: `user-${k}` });
        const who = r.value.split(":")[0]!;
        if (round === 0) owner.set(`user-${k}`, who);
        else assert.equal(who, owner.get(`user-${k}`));
      }
    }
    assert.equal(new Set(owner.values()).size, 3);
  });

  it("hash ring moves only the removed member's keys", () => {
    const members = ["a", "b", "c", "d"].map((id) => ({ id, value: id }));
    const full = new HashRing(members);
    const less = new HashRing(members.filter((m) => m.id !== "c"));
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const before = full.lookup(`k${i}`)!;
      const after = less.lookup(`k${i}`)!;
      if (before !== "c") assert.equal(after, before);
      else moved++;
    }
    assert.ok(moved > 300 && moved < 700, `moved ${moved}`);
  });

  it("prefers nodes of the caller's region, falls back to others", async () => {
    const servers = await dbNodes(3, (i) => ({ identity: { region: i === 2 ? 1 : 0 } }));
    const c = await caller(servers, { identity: { region: 1 } });
    assert.deepEqual([...(await tally(c, 6)).keys()], ["db2"]);
    await servers[2]!.close({ graceMs: 50 });
    const counts = await tally(c, 6);
    assert.deepEqual([...counts.keys()].sort(), ["db0", "db1"]);
  });

  it("idempotent calls are retried on another node when one dies; others are not", async () => {
    // db0 answers unavailable (simulated draining), db1 works.
    const broken = createNode({ identity: { name: "db0" }, listen: { port: 0 } });
    broken.service(DB, {
      query: () => {
        throw new GomsError("draining", Code.Unavailable);
      },
      update: () => {
        throw new GomsError("draining", Code.Unavailable);
      },
    });
    await broken.start();
    const [good] = await dbNodes(1, () => ({ identity: { name: "db1" } }));
    const c = await nodes.start({
      identity: { name: "q" },
      peers: { addresses: [
        { host: "127.0.0.1", port: broken.port },
        { host: "127.0.0.1", port: good!.port },
      ] },
      // Off here: db0 answering unavailable to every call would open its breaker, and this test counts round-robin turns.
      calls: { retryBudget: { ratio: 1, minPerSecond: 100 }, outlierDetection: false },
    });
    const db = c.client(DB);
    for (let i = 0; i < 10; i++) assert.match((await db.query({ key: "k" })).value, /^db\d:k$/);
    // With retry: false the failure surfaces.
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      try {
        await db.query({ key: "k" }, { retry: false });
      } catch (e) {
        assert.equal((e as GomsError).code, Code.Unavailable);
        failures++;
      }
    }
    assert.equal(failures, 5, "round-robin sends half of the non-retried calls to the broken node");
    await broken.close({ graceMs: 50 });
  });

  it("retry budget caps retries", () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 2, maxRetries: 2 }, () => now);
    assert.ok(b.withdraw());
    assert.ok(b.withdraw());
    assert.ok(!b.withdraw(), "floor used up, no deposits");
    for (let i = 0; i < 10; i++) b.deposit();
    assert.ok(b.withdraw());
    assert.ok(!b.withdraw());
    now += 1000;
    assert.ok(b.withdraw(), "floor refills each second");
  });

  it("an idempotent call tries at most 1 + maxRetries times; non-idempotent methods are not retried", async () => {
    let adds = 0;
    let echoes = 0;
    const servers: GomsNode[] = [];
    for (const name of ["a0", "a1"]) {
      const s = createNode({ identity: { name }, listen: { port: 0 } });
      s.service(AddServer, {
        add: () => {
          adds++;
          throw new GomsError("nope", Code.Unavailable);
        },
      });
      s.service(BenchService, {
        echo: () => {
          echoes++;
          throw new GomsError("nope", Code.Unavailable);
        },
      });
      await s.start();
      servers.push(s);
    }
    const c = await caller(servers);
    await assert.rejects(c.client(AddServer).add({}), (e: GomsError) => e.code === Code.Unavailable);
    assert.equal(adds, 3, "AddServer.Add is NO_SIDE_EFFECTS: 1 try + 2 retries");
    await assert.rejects(c.client(BenchService).echo({}), (e: GomsError) => e.code === Code.Unavailable);
    assert.equal(echoes, 1, "BenchService.Echo declares no idempotency: no retry");
    for (const s of servers) await s.close({ graceMs: 50 });
  });
});
