import assert from "node:assert/strict";
import { after, it } from "node:test";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createNode } from "../../src/rpc/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { freePort, Procs } from "../procs.js";
import { until } from "../helpers.js";

const procs = new Procs();
after(() => procs.killAll());

it("under sustained load (16 callers) against 3 db processes, kill -9 of one loses no idempotent call and no call outlives its deadline", async () => {
  const watch = await createWatchServer({ listen: { port: 0 } }).start();
  const url = `watch://127.0.0.1:${watch.port}`;
  const dbs: Awaited<ReturnType<Procs["start"]>>[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    dbs.push(await procs.start(["examples/microservice/db.ts", "--id", String(i), "--port", String(port), "--registry", url], /serving/, { GOMS_TTL_MS: "1000" }));
  }
  const kv = createWatchClient({ url });
  const registry = createRegistry({ kv, ttlMs: 1000 });
  const node = createNode({ identity: { name: "load" }, discovery: { registry } });
  await node.start();
  const db = node.client(DB);
  await until(() => node.discovered().size === 3, 5000, "3 db nodes registered");
  await db.query({ key: "warm" });

  const timeoutMs = 500;
  const durationMs = 3000;
  const maxCalls = 200_000;
  let ok = 0;
  let okAfterKill = 0;
  let maxLatency = 0;
  const errors: string[] = [];
  let killedAt = 0;
  // A deadline fires on this process's event loop: a call can only be seen to end as late as the loop's worst stall.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const t0 = Date.now();
  let leftRouting = 0;
  let leftRegistry = 0;
  const killer = setTimeout(() => {
    killedAt = Date.now();
    dbs[2]!.p.kill("SIGKILL");
  }, 1000);
  const watcher = setInterval(() => {
    if (killedAt === 0) return;
    if (!leftRouting && !node.nodesOf("goms.examples.v1.DB").some((p) => p.name === "db2" && p.ready)) leftRouting = Date.now() - killedAt;
    if (!leftRegistry && !node.discovered().has("db2")) leftRegistry = Date.now() - killedAt;
  }, 5);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() - t0 < durationMs && ok + errors.length < maxCalls) {
        const s = performance.now();
        try {
          await db.query({ key: "k" }, { timeoutMs });
          ok++;
          if (killedAt > 0) okAfterKill++;
        } catch (e) {
          errors.push(String(e));
        }
        maxLatency = Math.max(maxLatency, performance.now() - s);
      }
    }),
  );
  clearTimeout(killer);
  loopDelay.disable();
  const loopStallMs = loopDelay.max / 1e6;
  await until(() => leftRegistry > 0, 3000, "db2 left the registry");
  clearInterval(watcher);
  const rate = ok / ((Date.now() - t0) / 1000);
  assert.ok(killedAt > 0);
  assert.deepEqual(errors.slice(0, 3), [], `${errors.length} calls failed`);
  // The load is bounded by time and count, not asserted as a rate (speed is for `npm run bench`);
  // what must hold is that calls kept flowing through the failover.
  assert.ok(okAfterKill >= 200, `only ${okAfterKill} calls completed after the kill`);
  assert.ok(maxLatency < timeoutMs + loopStallMs, `a call took ${maxLatency.toFixed(0)} ms (deadline ${timeoutMs}, worst event-loop stall ${loopStallMs.toFixed(0)} ms)`);
  assert.ok(leftRouting > 0 && leftRouting < 1000, `left routing after ${leftRouting} ms (TTL 1000)`);
  assert.ok(leftRegistry < 1000 + 1000, `left the registry after ${leftRegistry} ms (TTL 1000 + lease check and delivery)`);
  console.log(
    `failover-load: ${ok} calls (${okAfterKill} after the kill), ${Math.round(rate)}/s, 0 failed, max latency ${maxLatency.toFixed(1)} ms; ` +
      `db2 left routing ${leftRouting} ms and the registry ${leftRegistry} ms after kill -9 (TTL 1000 ms)`,
  );
  await node.close();
  await registry.close();
  await kv.close();
  await watch.close();
});
