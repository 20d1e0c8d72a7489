// `goms health --registry` as a real process, against a real watch server and
// db nodes in processes of their own: all serving (exit 0), one frozen with
// SIGSTOP (unreachable, exit 1), one service marked not serving (exit 1).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { createRegistry, registryFromUrl } from "../../src/registry/index.js";
import { createWatchServer, watchSchemes } from "../../src/watch/index.js";
import type { NodeHealthRow } from "../../src/cli/health-cmd.js";
import { NodeSet } from "../helpers.js";
import { Procs, run } from "../procs.js";

const procs = new Procs();
const nodes = new NodeSet();
after(async () => {
  procs.killAll();
  await nodes.closeAll();
});

async function health(url: string, ...extra: string[]): Promise<{ code: number; rows: NodeHealthRow[]; stdout: string; stderr: string }> {
  const r = await run(["--import", "tsx", "src/cli/main.ts", "health", "--registry", url, "--timeout", "1500", ...extra]);
  const rows = extra.includes("--json") && r.stdout.trim() !== "" ? (JSON.parse(r.stdout) as NodeHealthRow[]) : [];
  return { ...r, rows };
}

describe("goms health", () => {
  it("prints every registered node and its services; exits 1 when one is stopped or not serving", async () => {
    const watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    const kv = await registryFromUrl(watch.url, { schemes: watchSchemes });
    const registry = createRegistry({ kv });
    try {
      // A long lease: the stopped process stays registered, as a hung node does until its lease runs out.
      const env = { GOMS_TTL_MS: "60000" };
      const db0 = await procs.start(["examples/microservice/db.ts", "--id", "0", "--port", "0", "--registry", watch.url], /db0 serving/, env);
      await procs.start(["examples/microservice/db.ts", "--id", "1", "--port", "0", "--registry", watch.url], /db1 serving/, env);
      let listed = 0;
      for (let i = 0; i < 200 && listed < 2; i++) {
        listed = (await registry.list()).nodes.length;
        if (listed < 2) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(listed, 2);

      const ok = await health(watch.url);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /^NODE\tADDRESS\tSTATUS\tSERVICES$/m);
      assert.match(ok.stdout, /^db0\t127\.0\.0\.1:\d+\tserving\tgoms\.examples\.v1\.DB=serving$/m);
      assert.match(ok.stdout, /^db1\t127\.0\.0\.1:\d+\tserving\tgoms\.examples\.v1\.DB=serving$/m);

      // db0 hangs without dying: its connection would open, its HELLO never comes.
      db0.p.kill("SIGSTOP");
      try {
        const stopped = await health(watch.url, "--json");
        assert.equal(stopped.code, 1, stopped.stdout + stopped.stderr);
        const byName = new Map(stopped.rows.map((r) => [r.node, r]));
        assert.equal(byName.get("db0")?.status, "unreachable");
        assert.equal(byName.get("db1")?.status, "serving");
        assert.deepEqual(byName.get("db1")?.services, [{ service: "goms.examples.v1.DB", status: "serving" }]);
      } finally {
        db0.p.kill("SIGCONT");
      }
      assert.equal((await health(watch.url)).code, 0);

      // A third node, in this process, whose application marks its service down.
      const sick = await nodes.start({ identity: { name: "sick" }, listen: { port: 0 }, discovery: { registry } }, (n) => n.service(AddServer, { add: (r) => ({ sum: r.a + r.b }) }));
      sick.health.setServing("AddServer", false);
      const down = await health(watch.url, "--json");
      assert.equal(down.code, 1);
      const row = down.rows.find((r) => r.node === "sick");
      assert.deepEqual(row, { node: "sick", address: `127.0.0.1:${sick.port}`, status: "not_serving", services: [{ service: AddServer.typeName, status: "not_serving" }] });
      sick.health.setServing("AddServer", true);
      assert.equal((await health(watch.url)).code, 0);
    } finally {
      await registry.close();
      await kv.close();
      await watch.close();
    }
  });

  it("exits 1 when no node is registered", async () => {
    const watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    try {
      const r = await health(watch.url);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no node is registered/);
    } finally {
      await watch.close();
    }
  });
});
