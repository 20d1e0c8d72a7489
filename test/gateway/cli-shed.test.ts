// `goms gateway --max-inflight-per-route N` as a real process: with N = 0 every
// route is shed with 503 + Retry-After, while /readyz lists the backend.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePort, Procs } from "../procs.js";

const procs = new Procs();
after(() => procs.killAll());

describe("goms gateway --max-inflight-per-route", () => {
  it("0 sheds every request at once with 503, Retry-After and GOMS_ERR_ROUTE_BUSY", async () => {
    const [addPort, httpPort] = [await freePort(), await freePort()];
    await procs.start(["examples/rpc/server.ts", "--port", String(addPort)], /rpc0 listening/);
    await procs.start(["src/cli/main.ts", "gateway", "--port", String(httpPort), "--peer", `127.0.0.1:${addPort}`, "--max-inflight-per-route", "0"], /gateway gate0 on/);
    const base = `http://127.0.0.1:${httpPort}`;
    let ready = await fetch(`${base}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) ready = await new Promise((r) => setTimeout(r, 50)).then(() => fetch(`${base}/readyz`));
    assert.deepEqual(await ready.json(), { status: "ready", nodes: 1, services: { "goms.examples.v1.AddServer": 1 } });
    const r = await fetch(`${base}/api/AddServer/Add`, { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } });
    assert.equal(r.status, 503);
    assert.equal(r.headers.get("retry-after"), "1");
    assert.equal(((await r.json()) as { reason: string }).reason, "GOMS_ERR_ROUTE_BUSY");
  });
});
