import assert from "node:assert/strict";
import { after, it } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { freePort, Procs } from "../procs.js";
import { until } from "../helpers.js";

// The seed's gateway example as three processes, then `goms gateway` against the same registry.
const procs = new Procs();
after(() => procs.killAll());

const curl = (base: string, path: string, body: string) =>
  fetch(base + path, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });

it("examples/gateway (watch, db, gate) answer the seed's curls; goms gateway works against the same registry", async () => {
  const [wp, dp, gp, hp, hp2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const registry = `watch://127.0.0.1:${wp}`;
  await procs.start(["examples/gateway/watch.ts", "--port", String(wp)], /WatchServer start/);
  await procs.start(["examples/gateway/db.ts", "--port", String(dp), "--registry", registry], /db0 serving/);
  const gate = await procs.start(["examples/gateway/gate.ts", "--port", String(gp), "--http-port", String(hp), "--registry", registry], /DB\/Watch\n/);
  const base = `http://127.0.0.1:${hp}`;
  const u = await curl(base, "/api/DB/Update", '{"key":"123","value":"aaa"}');
  assert.equal(u.status, 200);
  assert.equal(await u.text(), "{}");
  const q = await curl(base, "/api/DB/Query", '{"key":"123"}');
  assert.equal(q.status, 200);
  assert.equal(await q.text(), '{"value":"aaa"}');
  const lenient = await curl(base, "/api/dB/query", '{"key":"123"}');
  assert.equal(await lenient.text(), '{"value":"aaa"}');
  const missing = await curl(base, "/api/Nope/Query", "{}");
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { code: "not_found", message: "unknown service Nope", reason: "GOMS_ERR_UNKNOWN_SERVICE" });

  // The curl -N line gate0 prints, run exactly as printed: the current value, then a change as it happens.
  const line = /^ {2}(curl -N .*)$/m.exec(gate.out())?.[1];
  assert.equal(line, `curl -N -H 'x-goms-timeout-ms: 60000' -d '{"key":"123"}' ${base}/api/DB/Watch`);
  const watch = spawn("bash", ["-c", `exec ${line}`], { stdio: ["ignore", "pipe", "inherit"] });
  let events = "";
  watch.stdout.on("data", (d: Buffer) => (events += d.toString()));
  try {
    await until(() => events.includes('event: message\ndata: {"key":"123","value":"aaa","version":1}\n\n'), 30_000, "the current value");
    assert.equal((await curl(base, "/api/DB/Update", '{"key":"123","value":"bbb"}')).status, 200);
    await until(() => events.includes('event: message\ndata: {"key":"123","value":"bbb","version":2}\n\n'), 30_000, "the change");
  } finally {
    const exited = once(watch, "exit");
    watch.kill("SIGTERM");
    await exited;
  }

  // The CLI gateway, pointed at the same registry.
  await procs.start(["src/cli/main.ts", "gateway", "--name", "gate1", "--port", String(hp2), "--registry", registry], /gateway gate1 on/);
  const q2 = await curl(`http://127.0.0.1:${hp2}`, "/api/DB/Query", '{"key":"123"}');
  assert.equal(await q2.text(), '{"value":"bbb"}');
});
