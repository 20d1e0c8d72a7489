// The plain-HTTP health port (createHealthServer): /livez and /readyz over real
// HTTP, through a node's whole life: starting, serving, a service marked down,
// draining with a call in flight, closed. And the Health RPC of the same node.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { ServingStatus } from "../../src/gen/goms/v1/node_pb.js";
import { createHealthServer, type HealthServer } from "../../src/monitor/index.js";
import { createNode, NodeService } from "../../src/rpc/index.js";
import { NodeSet, until } from "../helpers.js";

const nodes = new NodeSet();
const servers: HealthServer[] = [];
after(async () => {
  await nodes.closeAll();
  for (const s of servers) await s.close({ graceMs: 0 });
});

async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe("health port", () => {
  it("answers /livez always, and /readyz with the node's serving, not serving and draining states", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const node = createNode({ identity: { name: "probed" }, listen: { port: 0 } }).service(AddServer, {
      async add(req) {
        held++;
        await gate;
        return { sum: req.a + req.b };
      },
    });
    const health = await createHealthServer({ node }).start();
    servers.push(health);

    // Not started yet: alive, not ready.
    assert.equal((await probe(health.port, "/livez")).status, 200);
    const before = await probe(health.port, "/readyz");
    assert.equal(before.status, 503);
    assert.equal((JSON.parse(before.body) as { status: string }).status, "not_serving");

    await node.start();
    const ready = await probe(health.port, "/readyz");
    assert.equal(ready.status, 200, ready.body);
    assert.deepEqual(JSON.parse(ready.body), { node: "probed", status: "serving", services: [{ service: AddServer.typeName, status: "serving" }] });
    assert.equal((await probe(health.port, `/readyz?service=${AddServer.name}`)).status, 200);
    const unknown = await probe(health.port, "/readyz?service=no.such.Service");
    assert.equal(unknown.status, 404);
    assert.equal((await probe(health.port, "/nope")).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${health.port}/readyz`, { method: "POST" })).status, 405);

    // The application marks its service down (say its database went away), then up again.
    node.health.setServing(AddServer.typeName, false);
    const down = await probe(health.port, "/readyz");
    assert.equal(down.status, 503);
    assert.deepEqual(JSON.parse(down.body), { node: "probed", status: "not_serving", services: [{ service: AddServer.typeName, status: "not_serving" }] });
    assert.throws(() => node.health.setServing("no.such.Service", false), /unknown service/);

    // Over RPC, the same answer.
    const client = await nodes.start({ identity: { name: "asker" }, peers: { addresses: [{ host: "127.0.0.1", port: node.port }] } });
    await client.waitForPeer(5000);
    const rpc = await client.client(NodeService).health({}, { node: "probed", timeoutMs: 5000 });
    assert.equal(rpc.status, ServingStatus.NOT_SERVING);
    node.health.setServing(AddServer.name, true);
    assert.equal((await client.client(NodeService).health({ service: AddServer.typeName }, { node: "probed", timeoutMs: 5000 })).status, ServingStatus.SERVING);
    assert.equal((await probe(health.port, "/readyz")).status, 200);

    // Draining: close() began while a call is in flight; the port keeps answering.
    const call = client.client(AddServer).add({ a: 1, b: 2 }, { timeoutMs: 30_000 });
    await until(() => held === 1, 5000, "the call to be running");
    const closed = node.close({ graceMs: 20_000 });
    let draining = await probe(health.port, "/readyz");
    assert.equal(draining.status, 503);
    assert.equal((JSON.parse(draining.body) as { status: string }).status, "draining");
    draining = await probe(health.port, `/readyz?service=${AddServer.typeName}`);
    assert.deepEqual(JSON.parse(draining.body), { service: AddServer.typeName, status: "draining" });
    assert.equal((await probe(health.port, "/livez")).status, 200);
    release();
    assert.equal((await call).sum, 3);
    await closed;

    // Closed: still alive (the process is), never ready again.
    const after = await probe(health.port, "/readyz");
    assert.equal(after.status, 503);
    assert.equal((JSON.parse(after.body) as { status: string }).status, "not_serving");
    assert.equal((await probe(health.port, "/livez")).status, 200);
  });
});
