// Internal services are never routable over HTTP, against real processes:
// `goms gateway --registry` next to `goms admin`, whose node hosts
// goms.v1.MonitorService and is registered (the gateway dials it: it has the token).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { freePort, Procs } from "../procs.js";

const procs = new Procs();
let dataDir: string | undefined;
after(async () => {
  procs.killAll();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const post = (base: string, path: string, body: string): Promise<Response> => fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json" } });

it("goms gateway --registry: POST /api/MonitorService/Push and the fully-qualified name are 404, goms.v1 is absent from /openapi.json", async () => {
  const [wp, dp, ap, np, hp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const registry = `watch://127.0.0.1:${wp}`;
  dataDir = await mkdtemp(join(tmpdir(), "goms-gw-internal-"));
  const token = "gateway-test-token";
  await procs.start(["examples/gateway/watch.ts", "--port", String(wp)], /WatchServer start/);
  await procs.start(["examples/gateway/db.ts", "--port", String(dp), "--registry", registry], /db0 serving/);
  await procs.start(["src/cli/main.ts", "admin", "--port", String(ap), "--node-port", String(np), "--registry", registry, "--token", token, "--data-dir", dataDir], /goms admin on/);
  await procs.start(["src/cli/main.ts", "gateway", "--name", "gate1", "--port", String(hp), "--registry", registry, "--token", token], /gateway gate1 on/);
  const base = `http://127.0.0.1:${hp}`;
  assert.equal((await post(base, "/api/DB/Query", '{"key":"1"}')).status, 200, "the gateway routes the registered services");
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { nodes: number };
  assert.ok(ready.nodes >= 2, `the gateway knows db0 and the admin node: ${JSON.stringify(ready)}`);
  const spoof = JSON.stringify({ stats: { node: { name: "db0", host: "6.6.6.6", port: 6666 } } });
  for (const path of ["/api/MonitorService/Push", "/api/goms.v1.MonitorService/Push", "/api/monitorService/push", "/api/NodeService/Info", "/api/goms.v1.WatchService/Get"]) {
    const r = await post(base, path, spoof);
    assert.equal(r.status, 404, `${path}: ${await r.text()}`);
  }
  const doc = await (await fetch(`${base}/openapi.json`)).text();
  assert.ok(doc.includes("/api/DB/Query"));
  assert.ok(!doc.includes("goms.v1."), "no internal service in /openapi.json");
});
