// Every gateway request takes the node's one call pipeline: client interceptors
// run once, idempotent calls are retried on another node, internal services are
// never routed or listed.
import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { createNode, type Interceptor } from "../../src/rpc/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { createGateway } from "../../src/gateway/index.js";
import { MonitorService } from "../../src/gen/goms/v1/monitor_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { MethodCatalog } from "../../src/admin/methods.js";
import { NodeSet, until } from "../helpers.js";
import { freePort, Procs } from "../procs.js";
import { closeAgent, post, request, startEnv } from "./helpers.js";

const nodes = new NodeSet();
const procs = new Procs();
const gateways: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
  await nodes.closeAll();
});
after(async () => {
  closeAgent();
  await procs.killAll();
});

function counting(): { interceptor: Interceptor; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    interceptor: (next) => (req) => {
      seen.push(`${req.method.parent.typeName}/${req.method.name}${req.oneWay ? " oneway" : ""}${req.node ? ` @${req.node}` : ""}`);
      return next(req);
    },
  };
}

describe("gateway on the call pipeline", () => {
  it("a gateway request runs the gate node's client interceptors exactly once", async () => {
    const c = counting();
    const env = await startEnv(nodes, {}, { calls: { interceptors: [c.interceptor] } });
    gateways.push(env.gw);
    const r = await post(env.port, "/api/DB/Query", '{"key":"k"}');
    assert.equal(r.status, 200, r.text);
    // The gate node's own descriptor fetch takes the pipeline too; the request itself runs it once.
    assert.deepEqual(
      c.seen.filter((s) => !s.startsWith("goms.v1.")),
      ["goms.examples.v1.DB/Query"],
    );
    await env.gw.close();
  });

  it("goms.v1.* services: 404 from the gateway, absent from /openapi.json and from the console's call form", async () => {
    const env = await startEnv(nodes, { openapi: true });
    gateways.push(env.gw);
    // The DB node also hosts the monitor store, an internal service.
    const mon = await nodes.start({ identity: { name: "mon" }, listen: { port: 0 } }, (n) => n.service(MonitorService, { push: () => ({}) }));
    env.gwNode.addPeer({ host: "127.0.0.1", port: mon.port });
    await until(() => env.gwNode.peerList().every((p) => p.state === "ready"), 3000, "peer ready");
    for (const path of ["/api/goms.v1.MonitorService/Push", "/api/MonitorService/Push", "/api/goms.v1.NodeService/Info", "/api/NodeService/Ping"]) {
      const r = await post(env.port, path, "{}");
      assert.equal(r.status, 404, `${path}: ${r.text}`);
    }
    const doc = (await request(env.port, "GET", "/openapi.json")).text;
    assert.ok(doc.includes("/api/DB/Query"), "public services are listed");
    assert.ok(!doc.includes("goms.v1."), "no goms.v1 service in OpenAPI");
    const form = await new MethodCatalog(env.gwNode).services();
    assert.deepEqual(
      form.map((s) => s.name),
      ["goms.examples.v1.DB"],
    );
    await env.gw.close();
  });

  it("a service marked internal by its node is neither routed nor listed", async () => {
    const priv = await nodes.start({ identity: { name: "priv" }, listen: { port: 0 } }, (n) => n.service(DB, { query: () => ({ value: "secret" }) }, { internal: true }));
    const gwNode = await nodes.start({ identity: { name: "gate-int" }, peers: { addresses: [{ host: "127.0.0.1", port: priv.port }] } });
    const gw = createGateway({ node: gwNode, openapi: true });
    gateways.push(gw);
    const port = (await gw.start()).port;
    assert.equal((await post(port, "/api/DB/Query", '{"key":"a"}')).status, 404);
    assert.ok(!(await request(port, "GET", "/openapi.json")).text.includes("DB"));
    // Still callable over RPC.
    assert.equal((await gwNode.client(DB).query({ key: "a" })).value, "secret");
    await gw.close();
  });
});

describe("gateway retries idempotent calls on another node (real node processes)", () => {
  it("kill -9 of one of two db processes: every DB.Query through the gateway answers 200", async () => {
    const watch = await createWatchServer({ listen: { port: 0 } }).start();
    const url = `watch://127.0.0.1:${watch.port}`;
    const dbs: Awaited<ReturnType<Procs["start"]>>[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      dbs.push(await procs.start(["examples/microservice/db.ts", "--id", String(i), "--port", String(port), "--registry", url], /serving/, { GOMS_TTL_MS: "1000" }));
    }
    const kv = createWatchClient({ url });
    const registry = createRegistry({ kv, ttlMs: 1000 });
    const c = counting();
    const gwNode = createNode({ identity: { name: "gate-retry" }, calls: { interceptors: [c.interceptor] }, discovery: { registry, connectAll: true } });
    await gwNode.start();
    const gw = createGateway({ node: gwNode });
    const port = (await gw.start()).port;
    try {
      await until(() => gwNode.peerList().filter((p) => p.state === "ready").length === 2, 5000, "both db nodes connected");
      assert.equal((await post(port, "/api/DB/Query", '{"key":"warm"}')).status, 200);
      const statuses: number[] = [];
      // Bounded: 40 rounds of 10 concurrent requests, one db killed after the 5th round.
      for (let round = 0; round < 40; round++) {
        if (round === 5) dbs[0]!.p.kill("SIGKILL");
        const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => post(port, "/api/DB/Query", `{"key":"k${round}-${i}"}`)));
        for (const r of rs) statuses.push(r.status);
      }
      assert.deepEqual(
        statuses.filter((s) => s !== 200),
        [],
        "no failed request",
      );
      assert.ok(gwNode.stats().retries > 0 || statuses.length === 400, "retries counted");
      assert.equal(c.seen.filter((s) => s.startsWith("goms.examples.v1.DB/")).length, 401, "one interceptor run per gateway request, retries included");
    } finally {
      await gw.close();
      await gwNode.close({ graceMs: 0 });
      await registry.close();
      await kv.close();
      await watch.close();
    }
  });
});
