// Gray failure: one of three db processes is frozen with SIGSTOP. Its
// connection stays up, so only its calls' outcomes say it hangs. The caller
// ejects it, carries on with the two others without failures, keeps it out
// while its probes go unanswered, and takes it back after SIGCONT once a probe
// answers.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { Procs } from "../procs.js";
import { sleep, until } from "../helpers.js";

const procs = new Procs();
const fixture = fileURLToPath(new URL("./fixtures/db-node.ts", import.meta.url));
let caller: GomsNode | undefined;
after(async () => {
  procs.killAll();
  await caller?.close({ graceMs: 0 });
});

function stateOf(node: GomsNode, name: string): string | undefined {
  return node.stats().outliers.peers.find((p) => p.node === name)?.state;
}

interface Batch {
  ok: number;
  failed: number;
  by: Map<string, number>;
}

/** `count` calls, `concurrency` at a time, each with a 300 ms deadline; bounded by `maxMs` too. */
async function batch(node: GomsNode, count: number, concurrency: number, maxMs: number, stop?: () => boolean): Promise<Batch> {
  const db = node.client(DB);
  const out: Batch = { ok: 0, failed: 0, by: new Map() };
  const end = Date.now() + maxMs;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count && Date.now() < end && !(stop?.() ?? false)) {
      started++;
      try {
        const r = await db.query({ key: "k" }, { timeoutMs: 300 });
        out.ok++;
        out.by.set(r.value, (out.by.get(r.value) ?? 0) + 1);
      } catch {
        out.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

it("a db process frozen with SIGSTOP is ejected, calls succeed on the others, and it returns after SIGCONT only once a probe answers", async () => {
  const dbs = [];
  for (const name of ["db0", "db1", "db2"]) {
    const { p, out } = await procs.start([fixture], /port \d+/, { NAME: name });
    dbs.push({ p, name, port: Number(/port (\d+)/.exec(out())![1]) });
  }
  caller = createNode({
    identity: { name: "caller" },
    peers: { addresses: dbs.map((d) => ({ host: "127.0.0.1", port: d.port })) },
    // A long first ejection, so that at least one probe finds the node still frozen.
    // No hedging: this test shows ejection alone (hedges would rescue the calls it counts as failed).
    calls: { outlierDetection: { baseEjectionMs: 1000 }, hedge: false },
  });
  await caller.start();
  const node = caller;
  await until(() => node.stats().peersReady === 3, 10_000, "3 db nodes ready");

  const before = await batch(node, 300, 10, 10_000);
  assert.equal(before.failed, 0, "no failures before the freeze");
  assert.equal(before.by.size, 3, `all three nodes answer: ${[...before.by.keys()].join(",")}`);

  const frozen = dbs[1]!;
  frozen.p.kill("SIGSTOP");
  // Calls during the freeze, until the frozen node is ejected (bounded by count and time).
  const during = await batch(node, 20_000, 10, 10_000, () => stateOf(node, "db1") !== "closed");
  const state = stateOf(node, "db1");
  assert.notEqual(state, "closed", `db1 ejected within 10 s (failures before ejection: ${during.failed})`);
  assert.ok(during.failed > 0, "the frozen node failed some calls before it was ejected");
  // Failures before ejection are bounded: calls that were on their way to db1 when it froze, plus those sent within one stall period.
  assert.ok(during.failed <= 200, `failures before ejection bounded: ${during.failed}`);

  // Ejected: calls with a short deadline succeed on the others. Calls already on their way to db1 may still fail.
  await sleep(350);
  const ejected = await batch(node, 400, 10, 10_000);
  assert.equal(ejected.failed, 0, `no failures after ejection (ok ${ejected.ok})`);
  assert.equal(ejected.by.get("db1") ?? 0, 0, "nothing routed to the ejected node");
  const stats = node.stats().outliers;
  assert.equal(stats.ejectedNow, 1);
  assert.ok(["open", "half-open"].includes(stateOf(node, "db1")!));

  // Still frozen past the first ejection period: the probe fails and it stays out.
  await until(() => node.stats().outliers.probesFailed >= 1, 10_000, "a probe of the frozen node failed");
  assert.notEqual(stateOf(node, "db1"), "closed");

  frozen.p.kill("SIGCONT");
  await until(() => stateOf(node, "db1") === "closed", 15_000, "db1 back in routing after SIGCONT");
  const back = node.stats().outliers;
  assert.ok(back.probes > back.probesFailed, "it came back through a probe that answered");
  const after = await batch(node, 300, 10, 10_000);
  assert.equal(after.failed, 0);
  assert.ok((after.by.get("db1") ?? 0) > 0, "db1 takes calls again");
});
