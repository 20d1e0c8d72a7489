// The demo (npm run demo) serves Prometheus /metrics on the admin console's
// port, as `goms admin` does, with the admission series of every node.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePort, Procs } from "../procs.js";
import { parseExposition, sampleValue } from "./exposition.js";

const procs = new Procs();
after(() => procs.killAll());

describe("demo: Prometheus /metrics on the console's port", () => {
  it("exposes the admission of db0, gate0 and admin, and db0's calls", async () => {
    const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const demo = await procs.start(["examples/demo/main.ts", "--port", String(port), "--http-port", String(httpPort), "--admin-port", String(adminPort)], /Press Ctrl-C/);
    assert.match(demo.out(), new RegExp(`metrics +http://127.0.0.1:${adminPort}/metrics`));
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/AddServer/Add`, { method: "POST", body: '{"a":1,"b":2}', headers: { "content-type": "application/json" } });
      assert.equal(r.status, 200);
    }
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const { samples, types } = parseExposition(await res.text());
    for (const name of ["goms_admission_admitted_total", "goms_admission_refused_total", "goms_admission_queue_seconds_total"]) assert.equal(types.get(name), "counter", name);
    for (const name of ["goms_admission_limit", "goms_admission_inflight", "goms_admission_baseline_seconds"]) assert.equal(types.get(name), "gauge", name);
    for (const node of ["db0", "gate0", "admin"]) {
      assert.ok((sampleValue(samples, "goms_admission_limit", { node }) ?? 0) > 0, `limit of ${node}`);
      assert.equal(sampleValue(samples, "goms_admission_refused_total", { node, reason: "limit" }), 0);
      assert.notEqual(sampleValue(samples, "goms_admission_refused_total", { node, reason: "deadline" }), undefined);
    }
    assert.ok((sampleValue(samples, "goms_admission_admitted_total", { node: "db0" }) ?? 0) >= 5);
    assert.equal(sampleValue(samples, "goms_rpc_calls_total", { side: "server", service: "goms.examples.v1.AddServer", method: "Add", code: "ok" }), 5);
    demo.p.kill("SIGTERM");
  });
});
