import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createInstanceManager, instanceFromEnv, type InstanceEvent } from "../../src/instances/index.js";
import { until } from "../helpers.js";

// createInstanceManager with small real programs (plain .mjs files run by node).
const dir = mkdtempSync(join(tmpdir(), "goms-instances-"));
function program(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe("createInstanceManager", () => {
  it("gives each instance its own id, name and port through the env convention", async () => {
    const file = program("env.mjs", `console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("GOMS_")))));`);
    const lines = new Map<number, string>();
    const events: InstanceEvent[] = [];
    const m = createInstanceManager({
      program: { file, env: { GOMS_EXTRA: "x" } },
      instances: 3,
      baseId: 10,
      namePrefix: "db",
      basePort: 9000,
      registry: "watch://127.0.0.1:1",
      onOutput: (i, line) => lines.set(i, line),
      onEvent: (e) => events.push(e),
    });
    await m.start();
    await until(() => m.instances().every((i) => i.state === "exited"), 10_000, "all exited");
    for (const i of [0, 1, 2]) {
      const env = JSON.parse(lines.get(i)!) as Record<string, string>;
      assert.deepEqual(env, {
        GOMS_EXTRA: "x",
        GOMS_INSTANCE: String(i),
        GOMS_INSTANCES: "3",
        GOMS_NODE_ID: String(10 + i),
        GOMS_NODE_NAME: `db${10 + i}`,
        GOMS_PORT: String(9000 + i),
        GOMS_REGISTRY: "watch://127.0.0.1:1",
      });
      assert.deepEqual(instanceFromEnv(env), { instance: i, instances: 3, nodeId: 10 + i, nodeName: `db${10 + i}`, port: 9000 + i, registry: "watch://127.0.0.1:1", healthPort: undefined });
    }
    // Exit code 0 is a finished program, not a crash: no restart.
    assert.equal(events.filter((e) => e.type === "restarting").length, 0);
    assert.equal(instanceFromEnv({}), undefined);
    assert.equal(instanceFromEnv({ GOMS_INSTANCE: "1", GOMS_PORT: "x" })?.port, undefined);
    await m.close();
  });

  it("restarts a crashing instance with growing backoff, then gives it up after maxAttempts", async () => {
    const file = program("crash.mjs", `process.exit(3);`);
    const events: InstanceEvent[] = [];
    const m = createInstanceManager({
      program: { file },
      instances: 1,
      restart: { backoff: { initialMs: 20, maxMs: 80 }, maxAttempts: 4 },
      onEvent: (e) => events.push(e),
    });
    await m.start();
    await until(() => events.some((e) => e.type === "failed"), 20_000, "given up");
    const restarts = events.filter((e) => e.type === "restarting");
    assert.deepEqual(restarts.map((e) => e.attempt), [1, 2, 3, 4]);
    // Full jitter in [cap/2, cap): the caps are 20, 40, 80, 80.
    restarts.forEach((e, i) => {
      const cap = Math.min(80, 20 * 2 ** i);
      assert.ok(e.inMs >= cap / 2 && e.inMs < cap, `attempt ${e.attempt}: ${e.inMs} ms within [${cap / 2}, ${cap})`);
    });
    assert.equal(events.filter((e) => e.type === "started").length, 5);
    assert.ok(events.filter((e) => e.type === "exited").every((e) => e.type === "exited" && e.code === 3 && !e.expected));
    const [info] = m.instances();
    assert.equal(info?.state, "failed");
    assert.equal(info?.restarts, 4);
    await m.close();
  });

  it("close() sends SIGTERM, waits for the drain, and SIGKILLs an instance that outlives the grace period", async () => {
    const file = program(
      "drain.mjs",
      `const stubborn = process.env.GOMS_INSTANCE === "1";
       process.on("SIGTERM", () => { if (!stubborn) setTimeout(() => process.exit(0), 50); });
       console.log("ready");
       setInterval(() => {}, 1000);`,
    );
    const events: InstanceEvent[] = [];
    let ready = 0;
    const m = createInstanceManager({ program: { file }, instances: 2, shutdownGraceMs: 500, onOutput: () => ready++, onEvent: (e) => events.push(e) });
    await m.start();
    await until(() => ready === 2, 10_000, "both ready");
    await m.close();
    const exits = new Map(events.flatMap((e) => (e.type === "exited" ? [[e.index, e] as const] : [])));
    assert.equal(exits.get(0)?.code, 0, "instance 0 drained");
    assert.equal(exits.get(1)?.signal, "SIGKILL", "instance 1 was killed after the grace period");
    assert.ok(m.instances().every((i) => i.pid === undefined && i.state === "exited"));
    assert.equal(events.filter((e) => e.type === "restarting").length, 0, "no restart while closing");
  });

  it("checks its options", () => {
    assert.throws(() => createInstanceManager({ program: { file: "x.js" }, instances: 0 }), /instances/);
    assert.throws(() => createInstanceManager({ program: { file: "" }, instances: 1 }), /program.file/);
    assert.throws(() => createInstanceManager({ instances: 1 }), /program or spawn/);
  });
});
