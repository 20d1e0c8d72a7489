import assert from "node:assert/strict";
import { request } from "node:http";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { instanceVars, startHealthPort } from "../../src/instances/index.js";
import { createNode } from "../../src/rpc/index.js";
import { createWatchServer } from "../../src/watch/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { until } from "../helpers.js";
import { Procs, freePort } from "../procs.js";

// `goms run --health-port`: each instance a real process serving /livez and /readyz on port + its index.
const procs = new Procs();
after(() => procs.stopAll());

interface Probe {
  status: number;
  body: string;
}

/** GET path on port; "no answer" when nothing comes back within `waitMs` (a stopped process accepts nothing it can answer). */
function probe(port: number, path: string, waitMs = 2000): Promise<Probe | "no answer" | "refused"> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(waitMs, () => {
      req.destroy();
      resolve("no answer");
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED" ? "refused" : "no answer"));
    req.end();
  });
}

/** Two consecutive free ports P and P+1 (goms run gives instance i the health port P+i). */
async function freePair(): Promise<number> {
  const taken = (p: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(false)));
    });
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && !(await taken(p + 1))) return p;
  }
  throw new Error("no two consecutive free ports");
}

describe("goms run --health-port", () => {
  it("instance i serves /livez and /readyz on P+i; a stopped instance stops answering; a draining one is not ready", async () => {
    const hp = await freePair();
    const run = await procs.start(
      ["src/cli/main.ts", "run", "test/cli/fixtures/held-node.ts", "--instances", "2", "--port", "0", "--health-port", String(hp), "--grace", "8000"],
      /held0 on \d+ health \d+[\s\S]*held1 on|held1 on \d+ health \d+[\s\S]*held0 on \d+ health/,
      {},
      60_000,
    );
    await until(() => /held1 on \d+ health \d+/.test(run.out()) && /held0 on \d+ health \d+/.test(run.out()), 30_000, "both instances");
    const out = run.out();
    assert.match(out, new RegExp(`held0 on \\d+ health ${hp}\\b`));
    assert.match(out, new RegExp(`held1 on \\d+ health ${hp + 1}\\b`));
    const rpcPort1 = Number(/held1 on (\d+)/.exec(out)![1]);
    const pid1 = Number(/instance 1 started \(pid (\d+)\)/.exec(out)![1]);

    for (const [i, port] of [hp, hp + 1].entries()) {
      assert.deepEqual(await probe(port, "/livez"), { status: 200, body: "ok\n" });
      const ready = await probe(port, "/readyz");
      assert.ok(typeof ready === "object" && ready.status === 200, JSON.stringify(ready));
      assert.deepEqual(
        { node: (JSON.parse(ready.body) as { node: string }).node, status: (JSON.parse(ready.body) as { status: string }).status },
        { node: `held${i}`, status: "serving" },
      );
    }

    // SIGSTOP: the frozen instance answers no probe (an orchestrator's probe times out); the other still does.
    process.kill(pid1, "SIGSTOP");
    try {
      assert.equal(await probe(hp + 1, "/readyz", 1000), "no answer");
      assert.equal((await probe(hp, "/readyz")) !== "no answer", true);
    } finally {
      process.kill(pid1, "SIGCONT");
    }
    const back = await probe(hp + 1, "/readyz", 10_000);
    assert.ok(typeof back === "object" && back.status === 200, `after SIGCONT: ${JSON.stringify(back)}`);

    // Drain: a call held in flight keeps instance 1 draining after SIGTERM; /readyz says so (503), /livez stays 200.
    const caller = createNode({ identity: { name: "caller" }, peers: { addresses: [{ host: "127.0.0.1", port: rpcPort1 }] }, calls: { hedge: false } });
    await caller.start();
    try {
      const db = caller.client(DB);
      await db.query({ key: "warm" });
      const held = db.query({ key: "hold" }, { timeoutMs: 20_000 });
      await until(() => run.out().includes("held1 holding a call"), 15_000, "the held call to reach its handler");
      process.kill(pid1, "SIGTERM");
      let draining: Probe | undefined;
      for (let i = 0; i < 200 && draining === undefined; i++) {
        const r = await probe(hp + 1, "/readyz");
        if (typeof r === "object" && r.status === 503) draining = r;
        else await new Promise((res) => setTimeout(res, 10));
      }
      assert.ok(draining, "readyz turned 503 during the drain");
      assert.equal((JSON.parse(draining.body) as { status: string }).status, "draining");
      assert.deepEqual(await probe(hp + 1, "/livez"), { status: 200, body: "ok\n" });
      assert.equal((await held).value, "released", "the call in flight finished during the drain");
      await until(() => /instance 1 \(pid \d+\) exited with code 0/.test(run.out()), 15_000, "instance 1 exit");
      assert.equal(await probe(hp + 1, "/livez"), "refused");
    } finally {
      await caller.close({ graceMs: 0 });
    }
    const ready0 = await probe(hp, "/readyz");
    assert.ok(typeof ready0 === "object" && ready0.status === 200, "instance 0 is unaffected");
  });

  it("a node started without goms run gets its health port from GOMS_HEALTH_PORT", async () => {
    const watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    try {
      const hp = await freePort();
      await procs.start(["examples/microservice/db.ts", "--port", String(await freePort()), "--registry", watch.url], new RegExp(`db0 serving .*health on ${hp}`), { GOMS_HEALTH_PORT: String(hp) }, 60_000);
      const r = await probe(hp, "/readyz");
      assert.ok(typeof r === "object" && r.status === 200, JSON.stringify(r));
      assert.equal((JSON.parse(r.body) as { node: string }).node, "db0");
    } finally {
      await procs.stopAll();
      await watch.close({ graceMs: 0 });
    }
  });

  it("the env convention: P+i per instance, 0 for all; no port, no server; a malformed port is an error", async () => {
    assert.equal(instanceVars(3, { instances: 4, baseId: 0, health: { port: 9100, host: "0.0.0.0" } })["GOMS_HEALTH_PORT"], "9103");
    assert.equal(instanceVars(3, { instances: 4, baseId: 0, health: { port: 9100, host: "0.0.0.0" } })["GOMS_HEALTH_HOST"], "0.0.0.0");
    assert.equal(instanceVars(3, { instances: 4, baseId: 0, health: { port: 0 } })["GOMS_HEALTH_PORT"], "0");
    assert.equal(instanceVars(3, { instances: 4, baseId: 0 })["GOMS_HEALTH_PORT"], undefined);
    const node = createNode({ identity: { name: "h" } });
    assert.equal(await startHealthPort(node, {}), undefined);
    await assert.rejects(startHealthPort(node, { GOMS_HEALTH_PORT: "90x" }), /GOMS_HEALTH_PORT: expected a port number/);
    const hs = await startHealthPort(node, { GOMS_HEALTH_PORT: "0" });
    assert.ok(hs !== undefined && hs.port > 0);
    await hs.close();
  });
});
