import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { createRegistry, registryFromUrl } from "../../src/registry/index.js";
import { createWatchServer, watchSchemes } from "../../src/watch/index.js";
import { until } from "../helpers.js";

// `goms run` as a real process, its instances real processes registering with a real watch server.
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids `goms run` reported for instance i, in order. */
function pidsOf(out: string, i: number): number[] {
  return [...out.matchAll(new RegExp(`instance ${i} started \\(pid (\\d+)\\)`, "g"))].map((m) => Number(m[1]));
}

/** The port each db instance printed last, by node name. */
function portsOf(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of out.matchAll(/\] (db\d+) serving goms\.examples\.v1\.DB on 127\.0\.0\.1:(\d+)/g)) m.set(x[1]!, Number(x[2]));
  return m;
}

describe("goms run --instances", () => {
  it("2 db instances register; kill -9 one and it comes back with a new pid; SIGTERM drains them all", async () => {
    const watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    const kv = await registryFromUrl(watch.url, { schemes: watchSchemes });
    const registry = createRegistry({ kv });
    try {
      const p = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run", "examples/microservice/db.ts", "--instances", "2", "--port", "0", "--registry", watch.url, "--grace", "5000"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, GOMS_TTL_MS: "1000" },
      });
      children.push(p);
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const registered = async (): Promise<Map<string, number>> => {
        const { nodes } = await registry.list();
        return new Map(nodes.map((n) => [n.node!.name, n.node!.port]));
      };
      // Both instances are nodes of their own: distinct names (GOMS_NODE_ID) and free ports (GOMS_PORT=0), in the registry.
      let seen = new Map<string, number>();
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        seen = await registered();
        const printed = portsOf(out);
        if (printed.size === 2 && [...printed].every(([n, port]) => seen.get(n) === port)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const ports = portsOf(out);
      assert.deepEqual([...ports.keys()].sort(), ["db0", "db1"], out);
      assert.notEqual(ports.get("db0"), ports.get("db1"));
      assert.equal(seen.get("db0"), ports.get("db0"), out);
      assert.equal(seen.get("db1"), ports.get("db1"), out);

      const [first] = pidsOf(out, 0);
      assert.ok(first !== undefined && alive(first));
      process.kill(first, "SIGKILL");
      await until(() => pidsOf(out, 0).length === 2, 30_000, "instance 0 restarted");
      const second = pidsOf(out, 0)[1]!;
      assert.notEqual(second, first);
      assert.match(out, /instance 0 \(pid \d+\) exited with SIGKILL/);
      assert.match(out, /instance 0 restarting in \d+ ms \(attempt 1\)/);
      // The new process registers itself again (a new free port, so a new registration).
      const oldPort = ports.get("db0");
      const rereg = Date.now() + 30_000;
      let now = new Map<string, number>();
      while (Date.now() < rereg) {
        const port = [...out.matchAll(/\] db0 serving goms\.examples\.v1\.DB on 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])).at(-1);
        now = await registered();
        if (port !== oldPort && port !== undefined && now.get("db0") === port) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.notEqual(now.get("db0"), oldPort, out);
      assert.equal(pidsOf(out, 1).length, 1, "instance 1 was not touched");

      const instancePids = [second, pidsOf(out, 1)[0]!];
      p.kill("SIGTERM");
      const [code] = (await once(p, "exit")) as [number | null];
      assert.equal(code, 0, out);
      assert.match(out, /goms run: SIGTERM, draining 2 instance\(s\)/);
      // Each instance drained and exited by itself (code 0), not killed after the grace period.
      assert.match(out, new RegExp(`instance 0 \\(pid ${second}\\) exited with code 0`));
      assert.match(out, new RegExp(`instance 1 \\(pid ${instancePids[1]}\\) exited with code 0`));
      for (const pid of instancePids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
      // Drained nodes leave the registry (deregistered on close, or at the latest when their 1 s lease runs out).
      let left = await registered();
      for (let i = 0; i < 50 && left.size > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await registered();
      }
      assert.equal(left.size, 0, `still registered: ${[...left.keys()].join(",")}`);
    } finally {
      await registry.close();
      await kv.close();
      await watch.close({ graceMs: 0 });
    }
  });
});
