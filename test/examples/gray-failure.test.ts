// The gray-failure figure: three db processes under sustained load, one of
// them frozen with SIGSTOP (its connection stays up, so only its calls'
// outcomes say it hangs). With the defaults (hedged requests after the
// method's p95, outlier ejection), idempotent calls see no failure, the p99 of
// the calls started during the freeze stays within the hedge delay plus the
// normal p99 (both measured in the same run, so the bound is a ratio, not a
// time), the frozen node is ejected within a second, and after SIGCONT it
// comes back only through a probe that answered.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { freePort, Procs } from "../procs.js";
import { until } from "../helpers.js";

const procs = new Procs();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  procs.killAll();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function p99(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

function peer(node: GomsNode, name: string) {
  return node.stats().outliers.peers.find((p) => p.node === name);
}

it("under sustained load (16 callers) against 3 db processes, SIGSTOP of one: no idempotent call fails, it is ejected within 1 s, and returns after SIGCONT through a probe", async (t) => {
  const watch = await createWatchServer({ listen: { port: 0 } }).start();
  cleanups.push(() => watch.close());
  const url = `watch://127.0.0.1:${watch.port}`;
  const dbs: Awaited<ReturnType<Procs["start"]>>[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    dbs.push(await procs.start(["examples/microservice/db.ts", "--id", String(i), "--port", String(port), "--registry", url], /serving/));
  }
  const kv = createWatchClient({ url });
  cleanups.push(() => kv.close());
  const registry = createRegistry({ kv });
  cleanups.push(() => registry.close());
  // The defaults: hedging after the method's p95, outlier ejection on.
  const node = createNode({ identity: { name: "load" }, discovery: { registry } });
  await node.start();
  cleanups.push(() => node.close());
  const db = node.client(DB);
  await until(() => node.discovered().size === 3, 5000, "3 db nodes registered");
  // The first call makes the node dial every node hosting DB.
  await db.query({ key: "warm" });
  await until(() => node.stats().peersReady === 3, 5000, "3 db nodes connected");

  // A deadline longer than the freeze: a call stuck on the frozen node that no hedge rescued
  // would answer after SIGCONT, slowly, instead of failing; its latency shows in the freeze p99.
  const timeoutMs = 3000;
  const warmMs = 2000;
  const freezeMs = 2000;
  const durationMs = warmMs + freezeMs + 1500;
  const maxCalls = 400_000;
  const frozen = dbs[2]!;
  const normal: number[] = [];
  /** [start time, latency] of the calls started during the freeze. */
  const during: [number, number][] = [];
  const errors: string[] = [];
  let ok = 0;
  let stoppedAt = 0;
  let contAt = 0;
  let stateAtCont: string | undefined;
  /** The hedge delay of normal operation: the method's p95 when the freeze begins. */
  let delay: number | undefined;
  const hedgeDelay = () => node.stats().hedges.delays.find((d) => d.method === "goms.examples.v1.DB/Query")?.delayMs;
  const t0 = Date.now();
  const stopper = setTimeout(() => {
    delay = hedgeDelay();
    stoppedAt = Date.now();
    frozen.p.kill("SIGSTOP");
  }, warmMs);
  const conter = setTimeout(() => {
    stateAtCont = peer(node, "db2")?.state;
    contAt = Date.now();
    frozen.p.kill("SIGCONT");
  }, warmMs + freezeMs);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() - t0 < durationMs && ok + errors.length < maxCalls) {
        const startedAt = Date.now();
        const s = performance.now();
        try {
          await db.query({ key: "k" }, { timeoutMs });
          ok++;
        } catch (e) {
          errors.push(String(e));
        }
        const ms = performance.now() - s;
        if (stoppedAt === 0) {
          if (startedAt - t0 > 500) normal.push(ms);
        } else if (contAt === 0) during.push([startedAt, ms]);
      }
    }),
  );
  clearTimeout(stopper);
  clearTimeout(conter);
  const elapsed = (Date.now() - t0) / 1000;
  assert.ok(stoppedAt > 0 && contAt > 0, "the freeze happened during the load");
  assert.deepEqual(errors.slice(0, 3), [], `${errors.length} calls failed`);
  // Calls kept flowing through the freeze (the load is bounded by time and count; speed is for `npm run bench`).
  assert.ok(during.length >= 200, `only ${during.length} calls started during the freeze`);

  const ejectedAt = peer(node, "db2")?.ejectedAt;
  assert.ok(ejectedAt !== undefined && ejectedAt >= stoppedAt, "db2 was ejected after SIGSTOP");
  assert.ok(ejectedAt - stoppedAt < 1000, `db2 ejected ${ejectedAt - stoppedAt} ms after SIGSTOP`);
  assert.ok(stateAtCont === "open" || stateAtCont === "half-open", `db2 out of routing at SIGCONT (${stateAtCont})`);

  await until(() => peer(node, "db2")?.state === "closed", 15_000, "db2 back in routing after SIGCONT");
  const back = node.stats().outliers;
  assert.ok(back.probes > back.probesFailed, `it came back through a probe that answered (probes ${back.probes}, failed ${back.probesFailed})`);

  const hedges = node.stats().hedges;
  const normalP99 = p99(normal);
  const all = during.map(([, ms]) => ms);
  const duringP99 = p99(all);
  assert.ok(delay !== undefined, "the method had a hedge delay (its observed p95) when the freeze began");
  const bound = delay + normalP99;
  const over = all.filter((ms) => ms > bound).length;
  const beforeEjection = during.filter(([at]) => at < ejectedAt).map(([, ms]) => ms);
  const afterEjection = during.filter(([at]) => at >= ejectedAt).map(([, ms]) => ms);
  t.diagnostic(
    `gray-failure: ${ok} calls in ${elapsed.toFixed(1)} s (${Math.round(ok / elapsed)}/s, 16 callers), 0 failed; ` +
      `db2 ejected ${ejectedAt - stoppedAt} ms after SIGSTOP (ejections ${back.ejections}, capped ${back.capped}), back ${Date.now() - contAt} ms or less after SIGCONT (probes ${back.probes}, failed ${back.probesFailed}); ` +
      `hedge delay ${delay} ms (${hedgeDelay() ?? "-"} ms at the end), hedges sent ${hedges.sent}, won ${hedges.won}, refused ${hedges.refused}; ` +
      `p99 normal ${normalP99.toFixed(1)} ms, during the freeze ${duringP99.toFixed(1)} ms = ${(duringP99 / normalP99).toFixed(2)} x normal, ` +
      `target ${bound.toFixed(1)} ms = ${(bound / normalP99).toFixed(2)} x normal (${all.length} calls, ${over} over it; ` +
      `p99 ${p99(beforeEjection).toFixed(1)} ms before the ejection, ${p99(afterEjection).toFixed(1)} ms after it, on two nodes)`,
  );
  // The figure: p99 during the freeze within the hedge delay plus the normal p99, as a ratio of the normal p99.
  assert.ok(
    duringP99 / normalP99 <= bound / normalP99,
    `p99 during the freeze ${duringP99.toFixed(1)} ms = ${(duringP99 / normalP99).toFixed(2)} x normal, over (hedge delay ${delay} ms + normal p99) = ${(bound / normalP99).toFixed(2)} x normal`,
  );
});
