import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAdmin, type Admin, type ProcessRow } from "../../src/admin/index.js";
import { createRegistry, registryFromUrl, type KvBackend } from "../../src/registry/index.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { createWatchServer } from "../../src/watch/server.js";
import { watchSchemes } from "../../src/watch/index.js";
import { waitFor } from "./wait.js";
import { freePort } from "../procs.js";
import { FakeStore } from "./store-double.js";
import { startSupervisord, type Supervisord } from "./supervisord.js";

type Row = ProcessRow & { node: { name: string; registered: boolean } | null };

describe("process control through a real supervisord", () => {
  let sup: Supervisord;
  let watch: { port: number; close(): Promise<void> };
  let kv: KvBackend;
  let node: GomsNode;
  let admin: Admin;
  let dir: string;
  let cookie = "";
  let csrf = "";

  const get = async (path: string) => {
    const r = await fetch(admin.url + path, { headers: { cookie } });
    assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
    return (await r.json()) as Record<string, unknown>;
  };
  const post = async (path: string, body: unknown = {}) => {
    const r = await fetch(admin.url + path, { method: "POST", headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const rows = async () => (await get("/api/processes"))["processes"] as Row[];
  const row = async (name: string) => (await rows()).find((r) => r.name === name)!;

  before(async () => {
    watch = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 } }).start();
    const registry = `watch://127.0.0.1:${watch.port}`;
    const [p0, p1] = await Promise.all([freePort(), freePort()]);
    const env = { GOMS_TTL_MS: "1000" };
    sup = await startSupervisord([
      { name: "db0", args: ["examples/microservice/db.ts", "--id", "0", "--port", String(p0), "--registry", registry], env },
      { name: "db1", args: ["examples/microservice/db.ts", "--id", "1", "--port", String(p1), "--registry", registry], env },
    ]);
    kv = await registryFromUrl(registry, { schemes: watchSchemes });
    node = await createNode({ identity: { name: "admin" }, listen: { port: 0 }, discovery: { registry: createRegistry({ kv, ttlMs: 1000 }) } }).start();
    dir = await mkdtemp(join(tmpdir(), "goms-admin-proc-"));
    admin = await createAdmin({ node, store: new FakeStore(), registry: kv, dataDir: dir, listen: { port: 0 }, supervisors: [{ name: "local", url: sup.url }], bootstrapUser: { name: "op", password: "operator password" }, pollMs: 300 }).start();
    const r = await fetch(admin.url + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "op", password: "operator password" }) });
    cookie = r.headers.get("set-cookie")!.split(";")[0]!;
    csrf = ((await r.json()) as { csrf: string }).csrf;
  });
  after(async () => {
    await admin?.close();
    await node?.close({ graceMs: 0 });
    await sup?.stop();
    await kv?.close();
    await watch?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists programs with state, pid and uptime, joined with the goms node of the same name", async () => {
    await waitFor(async () => (await rows()).filter((r) => r.state === "RUNNING").length === 2, 20_000, "both programs RUNNING");
    await waitFor(async () => (await rows()).every((r) => r.node?.registered === true), 20_000, "both nodes registered");
    const r = await row("db0");
    assert.equal(r.host, "local");
    assert.ok(r.pid > 0);
    assert.ok(r.uptimeSec >= 0);
    assert.equal(r.node!.name, "db0");
    const hosts = (await get("/api/processes"))["hosts"] as { host: string; ok: boolean; url: string }[];
    assert.equal(hosts[0]!.ok, true);
    assert.ok(!hosts[0]!.url.includes("s3cret"), "credentials are not shown");
  });

  it("stops and starts a program", async () => {
    const s = await post("/api/processes/local/db1/stop");
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal((await row("db1")).state, "STOPPED");
    const st = await post("/api/processes/local/db1/start");
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal((await row("db1")).state, "RUNNING");
  });

  it("restarts a program (stop then start): new pid", async () => {
    const before = await row("db0");
    const r = await post("/api/processes/local/db0/restart");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const after = await row("db0");
    assert.equal(after.state, "RUNNING");
    assert.notEqual(after.pid, before.pid);
  });

  it("tails a program's log", async () => {
    const log = await get("/api/processes/local/db0/log?bytes=4096");
    assert.match(log["text"] as string, /db0 serving goms\.examples\.v1\.DB/);
  });

  it("drains a node: SIGTERM, it leaves the registry, the program stops", async () => {
    await waitFor(() => node.discovered().has("db1"), 10_000, "db1 registered");
    const r = await post("/api/processes/local/db1/drain");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await row("db1")).state, "STOPPED");
    assert.equal(node.discovered().has("db1"), false, "db1 deregistered");
    const audit = (await get("/api/audit"))["entries"] as { action: string; target: string; outcome: string }[];
    for (const a of ["process.stop", "process.start", "process.restart", "process.drain"]) {
      assert.ok(audit.some((e) => e.action === a && e.outcome === "ok"), a);
    }
  });

  it("unknown programs and hosts are 404/502, not crashes", async () => {
    assert.equal((await post("/api/processes/nohost/db0/stop")).status, 404);
    assert.equal((await post("/api/processes/local/nope/stop")).status, 502);
    assert.equal((await post("/api/processes/local/db0/explode")).status, 404);
  });
});
