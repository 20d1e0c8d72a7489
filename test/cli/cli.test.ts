import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { freePort } from "../procs.js";
import { readFileSync } from "node:fs";

// These tests run the built CLI (npm test builds dist/ first) and the examples as real processes.
const CLI = "dist/cli/main.js";
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.stdin.end(input ?? "");
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts a long-running process and waits for `ready` on stdout. */
async function start(args: string[], ready: RegExp): Promise<ChildProcess & { output(): string }> {
  const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(p);
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!ready.test(out)) {
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(" ")} did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Object.assign(p, { output: () => out });
}

/** What `npm run demo` runs: the demo is an example, not part of the published package. */
const DEMO = ["--import", "tsx", "examples/demo/main.ts"];

describe("goms CLI, the demo and the rpc example, as processes", () => {
  it("goms --version matches package.json", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const r = await run([CLI, "--version"]);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("npm run demo -- --once: embedded registry, db0 and the gateway; the documented curls answer", async () => {
    const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const r = await run([...DEMO, "--once", "--port", String(port), "--http-port", String(httpPort), "--admin-port", String(adminPort)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`gateway +http://127.0.0.1:${httpPort}/api/`));
    assert.match(r.stdout, /POST \/api\/DB\/Update \{"key":"123","value":"aaa"\} -> 200 \{\}/);
    assert.match(r.stdout, /POST \/api\/DB\/Query \{"key":"123"\} -> 200 \{"value":"aaa"\}/);
    assert.match(r.stdout, /POST \/api\/AddServer\/Add \{"a":1,"b":2\} -> 200 \{"sum":3\}/);
  });

  it("the demo serves until SIGTERM; curl-equivalent requests from outside work", async () => {
    const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const demo = await start([...DEMO, "--port", String(port), "--http-port", String(httpPort), "--admin-port", String(adminPort)], /Press Ctrl-C/);
    const post = (path: string, body: string) =>
      fetch(`http://127.0.0.1:${httpPort}${path}`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
    const u = await post("/api/DB/Update", '{"key":"123","value":"aaa"}');
    assert.equal(u.status, 200);
    assert.equal(await u.text(), "{}");
    const q = await post("/api/DB/Query", '{"key":"123"}');
    assert.equal(q.status, 200);
    assert.equal(q.headers.get("content-type"), "application/json");
    assert.equal(await q.text(), '{"value":"aaa"}');
    const bad = await post("/api/DB/Query", '{"key":');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_argument");
    const call = await run([CLI, "call", "--json", "--addr", `127.0.0.1:${port}`, "DB.Query", '{"key":"123"}']);
    assert.equal(call.stdout, '{"value":"aaa"}\n');

    // The admin console with the printed one-time login: db0 and gate0 appear with live stats.
    const login = /admin \/ (\S+)\)/.exec(demo.output())?.[1];
    assert.ok(login, "one-time login printed");
    const admin = `http://127.0.0.1:${adminPort}`;
    assert.equal((await fetch(`${admin}/api/nodes`)).status, 401);
    const res = await fetch(`${admin}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "admin", password: login }) });
    assert.equal(res.status, 200);
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const deadline = Date.now() + 10_000;
    let monitored: string[] = [];
    while (Date.now() < deadline) {
      const nodes = (await (await fetch(`${admin}/api/nodes`, { headers: { cookie } })).json()) as { nodes: { name: string; monitored: boolean }[] };
      monitored = nodes.nodes.filter((n) => n.monitored).map((n) => n.name).sort();
      if (monitored.includes("db0") && monitored.includes("gate0")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(monitored.filter((n) => n !== "admin"), ["db0", "gate0"]);
    demo.kill("SIGTERM");
    const [code] = (await once(demo, "exit")) as [number | null];
    assert.equal(code, 0);
  });

  it("example rpc/server + rpc/client, and goms call against it", async () => {
    const port = await freePort();
    const server = await start(["--import", "tsx", "examples/rpc/server.ts", "--port", String(port)], /rpc0 listening/);
    const client = await run(["--import", "tsx", "examples/rpc/client.ts", "--port", String(port), "--a", "40", "--b", "2"]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.trim(), "40 + 2 = 42\ncount from 42: 43 44 45\nrunning totals of 1+1, 2+2, 3+3: 2 6 12");

    const addr = `127.0.0.1:${port}`;
    const pretty = await run([CLI, "call", "--addr", addr, "AddServer.Add", '{"a":1,"b":2}']);
    assert.equal(pretty.code, 0, pretty.stderr);
    assert.equal(pretty.stdout, '{\n  "sum": 3\n}\n');
    const exact = await run([CLI, "call", "--json", "--addr", addr, "goms.examples.v1.AddServer.Add", '{"a":5,"b":6}']);
    assert.equal(exact.stdout, '{"sum":11}\n');
    const stdin = await run([CLI, "call", "--json", "--addr", addr, "AddServer.Add", "-"], '{"a":2}');
    assert.equal(stdin.stdout, '{"sum":2}\n');

    const badMethod = await run([CLI, "call", "--addr", addr, "AddServer.Nope", "{}"]);
    assert.equal(badMethod.code, 1);
    assert.match(badMethod.stderr, /unimplemented: goms.examples.v1.AddServer has no method Nope/);
    const badJson = await run([CLI, "call", "--addr", addr, "AddServer.Add", '{"a":"x"}']);
    assert.equal(badJson.code, 1);
    assert.match(badJson.stderr, /invalid_argument: .*expected number/);
    const badSvc = await run([CLI, "call", "--addr", addr, "Nope.Add"]);
    assert.match(badSvc.stderr, /not_found: unknown service Nope/);

    const info = await run([CLI, "info", "--addr", addr]);
    assert.equal(info.code, 0, info.stderr);
    const parsed = JSON.parse(info.stdout) as { node: { name: string; services: string[] } };
    assert.equal(parsed.node.name, "rpc0");
    assert.ok(parsed.node.services.includes("goms.examples.v1.AddServer"));

    server.kill("SIGTERM");
    const [code] = (await once(server, "exit")) as [number | null];
    assert.equal(code, 0, "graceful exit on SIGTERM");
  });

  it("goms call against nothing fails with unavailable", async () => {
    const port = await freePort();
    const r = await run([CLI, "call", "--addr", `127.0.0.1:${port}`, "AddServer.Add"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unavailable: cannot reach a goms node/);
  });
});
