import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { createCluster, type Cluster } from "../../src/testing/index.js";
import { type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { until } from "../helpers.js";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function db(name: string) {
  return {
    identity: { name },
    setup: (n: GomsNode) =>
      n.service(DB, {
        query: (_r, ctx) => {
          ctx.responseMetadata["x-node"] = name;
          return { value: name };
        },
        update: () => ({}),
      }),
  };
}

async function servedBy(q: GomsNode, n: number): Promise<Set<string>> {
  const who = new Set<string>();
  for (let i = 0; i < n; i++) who.add((await q.client(DB).query({ key: "k" }, { timeoutMs: 2000 })).value);
  return who;
}

describe("testing harness: createCluster", () => {
  it("start() resolves with the cluster; nodes are added only after it", async () => {
    const c = createCluster({ ttlMs: 500 });
    await assert.rejects(c.add({ identity: { name: "early" } }), (e: unknown) => GomsError.is(e) && e.reason === "GOMS_ERR_BAD_STATE");
    cluster = c;
    assert.equal(await c.start(), c);
    await assert.rejects(c.start(), (e: unknown) => GomsError.is(e) && e.reason === "GOMS_ERR_BAD_STATE");
    const q = await c.add({ identity: { name: "q" } });
    assert.equal(c.node("q"), q);
  });

  it("discovers nodes through the registry and spreads calls", async () => {
    cluster = await createCluster({ ttlMs: 500 }).start();
    await cluster.add(db("db0"));
    await cluster.add(db("db1"));
    const q = await cluster.add({ identity: { name: "q" } });
    assert.deepEqual([...(await servedBy(q, 8))].sort(), ["db0", "db1"]);
    // A node that joins later is used without any restart.
    await cluster.add(db("db2"));
    await until(() => q.nodesOf("goms.examples.v1.DB").filter((n) => n.ready).length === 3, 3000, "db2 discovered");
    assert.deepEqual([...(await servedBy(q, 9))].sort(), ["db0", "db1", "db2"]);
    assert.deepEqual(
      q.nodesOf("goms.examples.v1.DB").map((n) => [n.name, n.ready]),
      [["db0", true], ["db1", true], ["db2", true]],
    );
  });

  it("a killed node leaves routing within its lease TTL; idempotent calls never fail meanwhile", async () => {
    cluster = await createCluster({ ttlMs: 500 }).start();
    await cluster.add(db("db0"));
    await cluster.add(db("db1"));
    const q = await cluster.add({ identity: { name: "q" } });
    await servedBy(q, 4);
    const t0 = Date.now();
    await cluster.kill("db1");
    // Every call succeeds: the dead connection fails unavailable and the call is retried on db0.
    for (let i = 0; i < 20; i++) assert.equal((await q.client(DB).query({ key: "k" }, { timeoutMs: 2000 })).value, "db0");
    await until(() => !q.discovered().has("db1"), 3000, "db1 deregistered by lease expiry");
    assert.ok(Date.now() - t0 < 500 + 1000, `left the registry after ${Date.now() - t0} ms`);
  });

  it("partitions and delays links", async () => {
    cluster = await createCluster({ ttlMs: 500 }).start();
    await cluster.add(db("db0"));
    await cluster.add(db("db1"));
    const q = await cluster.add({ identity: { name: "q" }, calls: { defaultTimeoutMs: 1500 } });
    await servedBy(q, 4);
    cluster.partition("q", "db1");
    // Heartbeats (200 ms / 1 s in the harness) drop the silent link; calls keep working through db0.
    await until(() => q.nodesOf("goms.examples.v1.DB").filter((n) => n.ready).length === 1, 4000, "partitioned peer dropped");
    assert.deepEqual([...(await servedBy(q, 6))], ["db0"]);
    cluster.heal("q", "db1");
    await until(() => q.nodesOf("goms.examples.v1.DB").filter((n) => n.ready).length === 2, 4000, "healed peer back");
    cluster.delay("q", "db0", 300);
    const t0 = Date.now();
    await q.client(DB).query({}, { node: "db0" });
    assert.ok(Date.now() - t0 >= 550, "300 ms each way");
    await assert.rejects(q.client(DB).query({}, { node: "db0", timeoutMs: 200 }), (e: GomsError) => e.code === Code.DeadlineExceeded);
  });

  it("the registry restarts empty: every node registers again by itself within 2 TTLs", async () => {
    cluster = await createCluster({ ttlMs: 500 }).start();
    await cluster.add(db("db0"));
    await cluster.add(db("db1"));
    const q = await cluster.add({ identity: { name: "q" } });
    await servedBy(q, 2);
    // Calls keep working throughout: the registry forgetting the nodes does not drop their healthy connections.
    let failures = 0;
    let calls = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        calls++;
        await q.client(DB).query({ key: "k" }, { timeoutMs: 1000 }).catch(() => failures++);
        // In-memory streams deliver on nextTick: yield so timers (registry restart, leases) can run.
        await new Promise((r) => setImmediate(r));
      }
    })();
    await cluster.restartRegistry();
    const t0 = Date.now();
    await until(() => cluster!.registryServer.store.keyPrefix("goms/nodes/").length >= 3, 2000, "re-registration");
    assert.ok(Date.now() - t0 <= 1000, `re-registered after ${Date.now() - t0} ms`);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;
    assert.equal(failures, 0, `${failures} of ${calls} calls failed during the registry restart`);
    assert.deepEqual([...(await servedBy(q, 6))].sort(), ["db0", "db1"]);
  });
});
