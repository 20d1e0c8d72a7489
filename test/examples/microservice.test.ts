import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePort, Procs, run } from "../procs.js";
import { startEtcd, type EtcdServer } from "../registry/etcd-server.js";
import { until } from "../helpers.js";

// The seed's microservice example as real processes: a registry, two db nodes and
// the query node, then kill -9 of a db node and of the registry itself.
const procs = new Procs();
let etcd: EtcdServer | undefined;
after(async () => {
  procs.killAll();
  await etcd?.destroy();
});

// 2 s: short enough to see kill -9 heal quickly, long enough that a CPU-starved CI machine does not drop live leases.
const TTL = "2000";
const env = { GOMS_TTL_MS: TTL, GOMS_QUERY_INTERVAL_MS: "150" };

async function nodes(registry: string): Promise<string[]> {
  const r = await run(["dist/cli/main.js", "nodes", "--json", "--registry", registry]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name).sort();
}

/** No query failed; the only failures allowed are broadcast Updates to the killed node. */
function assertNoLostQuery(log: string, killed: string): void {
  assert.doesNotMatch(log, /Query failed/);
  for (const m of log.matchAll(/Update on (\S+) failed/g)) assert.equal(m[1], killed, `Update failed on a live node: ${m[0]}`);
}

function values(log: string): number[] {
  return [...log.matchAll(/Query \[value=(\d+)\] from (db\d)/g)].map((m) => Number(m[1]));
}

function watched(log: string): number[] {
  return [...log.matchAll(/Watch \[key=a value=(\d+) version=\d+\]/g)].map((m) => Number(m[1]));
}

async function scenario(registry: string, restartRegistry?: () => Promise<void>): Promise<void> {
  const [p0, p1, pq] = await Promise.all([freePort(), freePort(), freePort()]);
  await procs.start(["examples/microservice/db.ts", "--port", String(p0), "--registry", registry], /db0 serving/, env);
  const db1 = await procs.start(["examples/microservice/db.ts", "--id", "1", "--port", String(p1), "--registry", registry], /db1 serving/, env);
  // Start the query node once both db nodes are registered.
  for (const t0 = Date.now(); !(await nodes(registry)).join().startsWith("db0,db1"); ) {
    assert.ok(Date.now() - t0 < 10_000, "db0 and db1 registered");
    await new Promise((r) => setTimeout(r, 100));
  }
  const q = await procs.start(["examples/microservice/query.ts", "--port", String(pq), "--registry", registry], /querying DB/, env);
  await until(() => /from db0/.test(q.out()) && /from db1/.test(q.out()), 10_000, "both db nodes serve");
  assert.deepEqual(await nodes(registry), ["db0", "db1", "query0"]);

  // query0 follows key a with DB.Watch (a server stream on one db node): each Update shows up, in order.
  await until(() => watched(q.out()).length >= 3, 10_000, "DB.Watch changes in query0's log");
  const w = watched(q.out());
  assert.deepEqual(w, [...w].sort((a, b) => a - b), "watched values climb");

  const call = await run(["dist/cli/main.js", "call", "--json", "--registry", registry, "DB.Query", '{"key":"a"}']);
  assert.equal(call.code, 0, call.stderr);
  assert.match(call.stdout, /^\{"value":"\d+"\}\n$/);

  // kill -9 one db: it leaves the registry within its TTL and no query fails.
  const killedAt = Date.now();
  db1.p.kill("SIGKILL");
  for (;;) {
    if (!(await nodes(registry)).includes("db1")) break;
    assert.ok(Date.now() - killedAt < Number(TTL) + 1500, "db1 still registered after TTL + 1.5 s");
  }
  const before = values(q.out()).length;
  await until(() => values(q.out()).length >= before + 5, 5000, "queries continue");
  assertNoLostQuery(q.out(), "db1");
  const v = values(q.out());
  assert.deepEqual(v, [...v].sort((a, b) => a - b), "values climb");

  if (restartRegistry) {
    await restartRegistry();
    const t0 = Date.now();
    for (;;) {
      const names = await nodes(registry).catch(() => []);
      if (names.join() === "db0,query0") break;
      assert.ok(Date.now() - t0 < 2 * Number(TTL) + 1000, `not re-registered: ${names.join()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const n = values(q.out()).length;
    await until(() => values(q.out()).length >= n + 3, 5000, "queries continue after the registry restart");
    // The watch survives too (or watches again on db0 when it was on db1): changes keep arriving.
    const seen = watched(q.out()).length;
    await until(() => watched(q.out()).length >= seen + 3, 10_000, "watched changes after the registry restart");
    assertNoLostQuery(q.out(), "db1");
  }
}

describe("examples/microservice as processes", () => {
  it("on the watch server: spread, kill -9 a db, kill -9 and restart the registry", async () => {
    const port = await freePort();
    const url = `watch://127.0.0.1:${port}`;
    let watch = await procs.start(["examples/microservice/watch.ts", "--port", String(port)], /WatchServer start/);
    await scenario(url, async () => {
      watch.p.kill("SIGKILL");
      await new Promise((r) => watch.p.once("exit", r));
      watch = await procs.start(["examples/microservice/watch.ts", "--port", String(port)], /WatchServer start/);
    });
  });

  it("on etcd: spread, kill -9 a db, restart etcd", async () => {
    etcd = await startEtcd();
    const url = etcd.endpoint.replace("http://", "etcd://");
    await scenario(url, () => etcd!.restart({ wipe: true }));
  });
});
