// GET /readyz per route: 200 while every service known to the gateway has a
// ready backend, 503 (with the counts) when one's only backend goes away.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePort, Procs } from "../procs.js";
import { sleep, until } from "../helpers.js";
import { hostDb, request, useGatewayEnv } from "./helpers.js";
import { createGateway } from "../../src/gateway/index.js";

const { nodes, track } = useGatewayEnv();
const procs = new Procs();
after(() => procs.killAll());

const ADD = "goms.examples.v1.AddServer";
const DB = "goms.examples.v1.DB";

interface Ready {
  status: string;
  nodes: number;
  services: Record<string, number>;
}

describe("gateway: /readyz per route", () => {
  it("a backend process killed: 503 naming the service with 0 backends; back to 200 when it returns", async () => {
    const addPort = await freePort();
    const serverArgs = ["examples/rpc/server.ts", "--port", String(addPort)];
    const add = await procs.start(serverArgs, /rpc0 listening/);
    const db = await nodes.start({ identity: { name: "db0" }, listen: { port: 0 } }, hostDb);
    const gwNode = await nodes.start({
      identity: { name: "gate0" },
      peers: { addresses: [{ host: "127.0.0.1", port: db.port }, { host: "127.0.0.1", port: addPort }], reconnect: { initialMs: 50, maxMs: 200 } },
    });
    const gw = createGateway({ node: gwNode });
    track(gw);
    const port = (await gw.start()).port;
    const ready = async (): Promise<{ status: number; body: Ready }> => {
      const r = await request(port, "GET", "/readyz");
      return { status: r.status, body: r.json as Ready };
    };
    await until(() => gwNode.stats().peersReady === 2, 10_000, "both backends ready");
    assert.deepEqual(await ready(), { status: 200, body: { status: "ready", nodes: 2, services: { [ADD]: 1, [DB]: 1 } } });

    add.p.kill("SIGKILL");
    let r = await ready();
    const end = Date.now() + 10_000;
    while (r.status === 200 && Date.now() < end) r = await sleep(20).then(ready);
    assert.deepEqual(r, { status: 503, body: { status: "not_ready", nodes: 2, services: { [ADD]: 0, [DB]: 1 } } });
    // The gateway still serves the routes that have a backend.
    assert.equal((await request(port, "POST", "/api/DB/Query", '{"key":"a"}')).status, 200);

    await procs.start(serverArgs, /rpc0 listening/);
    while (r.status !== 200 && Date.now() < end + 10_000) r = await sleep(20).then(ready);
    assert.deepEqual(r, { status: 200, body: { status: "ready", nodes: 2, services: { [ADD]: 1, [DB]: 1 } } });
  });

  it("503 with no backend at all", async () => {
    const lonely = await nodes.start({ identity: { name: "lonely" } });
    const gw = createGateway({ node: lonely });
    track(gw);
    const port = (await gw.start()).port;
    const r = await request(port, "GET", "/readyz");
    assert.deepEqual([r.status, r.json], [503, { status: "not_ready", nodes: 0, services: {} }]);
  });
});
