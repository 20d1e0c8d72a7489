// MonitorService is closed to strangers (issue 10, defect 1), against real
// processes: the demo (`npm run demo`) and `goms admin` with a watch registry.
// Stats pushes need the admin node's token, and a node may only push stats
// about itself, at its registered address.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/errors/index.js";
import { createMonitoring } from "../../src/monitor/index.js";
import { NodeStatsSchema } from "../../src/gen/goms/v1/monitor_pb.js";
import { createNode } from "../../src/rpc/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { kvFromUrl } from "../../src/cli/target.js";
import { freePort, Procs } from "../procs.js";
import { consoleNodes, pushAs } from "./push-helpers.js";

const procs = new Procs();
const dirs: string[] = [];
const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
  procs.killAll();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const post = (base: string, path: string, body: string): Promise<Response> => fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json" } });
const spoof = JSON.stringify({ stats: { node: { name: "db0", host: "6.6.6.6", port: 6666 }, intervalMs: 5000 } });

describe("MonitorService is closed to strangers", () => {
  it("the demo: not routable over HTTP, a push without the token is refused, db0 and gate0 are still monitored", async () => {
    const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const demo = await procs.start(["examples/demo/main.ts", "--port", String(port), "--http-port", String(httpPort), "--admin-port", String(adminPort)], /Press Ctrl-C/);
    const gw = `http://127.0.0.1:${httpPort}`;
    assert.equal((await post(gw, "/api/DB/Query", '{"key":"x"}')).status, 200, "the gateway routes the demo's services");
    for (const path of ["/api/MonitorService/Push", "/api/goms.v1.MonitorService/Push", "/api/monitorService/push"]) {
      const r = await post(gw, path, spoof);
      assert.equal(r.status, 404, `${path}: ${await r.text()}`);
    }

    const monitorPort = Number(/node admin on 127\.0\.0\.1:(\d+)/.exec(demo.out())?.[1]);
    assert.ok(monitorPort > 0, "the demo prints the monitor node's address");
    const refused = await pushAs({ name: "intruder", port: monitorPort });
    assert.equal(refused?.code, Code.Unauthenticated, String(refused));
    assert.match(refused.message, /invalid or missing token/);

    const password = /admin \/ (\S+)\)/.exec(demo.out())?.[1];
    const nodes = await consoleNodes(`http://127.0.0.1:${adminPort}`, "admin", password!);
    const deadline = Date.now() + 15_000;
    let seen = await nodes();
    while (!["db0", "gate0"].every((n) => seen.some((s) => s.name === n && s.monitored)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await nodes();
    }
    assert.deepEqual(
      seen.filter((n) => n.monitored && n.name !== "admin").map((n) => n.name),
      ["db0", "gate0"],
    );
    assert.equal(seen.find((n) => n.name === "db0")?.address, `127.0.0.1:${port}`);
  });

  it("goms admin --token: unauthenticated pushes, other nodes' names and unregistered addresses are refused", async () => {
    const [wp, ap, np] = [await freePort(), await freePort(), await freePort()];
    const registryUrl = `watch://127.0.0.1:${wp}`;
    const dataDir = await mkdtemp(join(tmpdir(), "goms-push-auth-"));
    dirs.push(dataDir);
    await procs.start(["examples/gateway/watch.ts", "--port", String(wp)], /WatchServer start/);
    const token = "push-token-for-the-test";
    const password = "a password for the test";
    await procs.start(
      ["src/cli/main.ts", "admin", "--port", String(ap), "--node-port", String(np), "--registry", registryUrl, "--token", token, "--data-dir", dataDir],
      /goms admin on/,
      { GOMS_ADMIN_PASSWORD: password },
    );

    // A registered node with the token: accepted (retried until the admin has seen its registration).
    const kv = await kvFromUrl(registryUrl);
    const registry = createRegistry({ kv });
    const realPort = await freePort();
    cleanup.push(() => kv.close(), () => registry.close());
    const real = await createNode({ identity: { name: "db-real" }, listen: { host: "127.0.0.1", port: realPort }, discovery: { registry }, auth: { peerToken: token } }).start();
    cleanup.push(() => real.close({ graceMs: 0 }));
    const mon = createMonitoring({ node: real, target: "admin" });
    cleanup.push(() => mon.close());
    const deadline = Date.now() + 10_000;
    while (!(await mon.pushNow()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(mon.counters().pushes, 1, `registered node with the token: ${mon.counters().lastError}`);

    const noToken = await pushAs({ name: "intruder", port: np });
    assert.equal(noToken?.code, Code.Unauthenticated, String(noToken));

    const otherName = await pushAs({ name: "evil", port: np, token, stats: () => create(NodeStatsSchema, { node: real.identity(), intervalMs: 5000 }) });
    // Reasons do not cross the wire: the code and the message tell the pusher.
    assert.equal(otherName?.code, Code.PermissionDenied, String(otherName));
    assert.match(otherName.message, /node evil may only push its own stats, not db-real \(the name differs/);

    const otherAddress = await pushAs({ name: "evil", port: np, token, stats: (n) => create(NodeStatsSchema, { node: { ...n.identity(), host: "6.6.6.6", port: 6666 } }) });
    assert.equal(otherAddress?.code, Code.PermissionDenied, String(otherAddress));
    assert.match(otherAddress.message, /node evil may only push its own stats.*the push says id 0 at 6\.6\.6\.6:6666/);

    // Same name, HELLO and push consistent, but not the registered address.
    const impostor = await pushAs({ name: "db-real", port: np, token, node: { listen: { host: "127.0.0.1", port: await freePort() } } });
    assert.equal(impostor?.code, Code.PermissionDenied, String(impostor));
    assert.match(impostor.message, new RegExp(`registered at 127\\.0\\.0\\.1:${realPort}`));

    const nodes = await consoleNodes(`http://127.0.0.1:${ap}`, "admin", password);
    const seen = await nodes();
    assert.deepEqual(
      seen.filter((n) => n.monitored).map((n) => [n.name, n.address]),
      [["db-real", `127.0.0.1:${realPort}`]],
    );
  });
});
