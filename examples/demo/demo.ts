import { AddServer } from "../gen/goms/examples/v1/add_pb.js";
import { DB } from "../gen/goms/examples/v1/db_pb.js";
import { createDbService, watchCurl } from "../shared/db-service.js";
import { createGateway, type Gateway } from "../../src/gateway/index.js";
import { createRegistry, embeddedKv } from "../../src/registry/index.js";
import { createNode } from "../../src/rpc/index.js";
import { createAdmin } from "../../src/admin/index.js";
import { createCollector, createMetrics, createMonitorStore, createMonitoring, metricsHandler, MonitorService } from "../../src/monitor/index.js";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { serveUi } from "../../src/admin/static.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DemoOptions {
  /** HTTP port of the gateway (8091). */
  httpPort: number;
  /** HTTP port of the admin console (8092). */
  adminPort: number;
  /** goms port of node db0 (10001). */
  port: number;
  /** Run the demo calls, print them, and exit. */
  once: boolean;
  out: (line: string) => void;
}

/**
 * goms on the embedded default, in one process: an embedded registry, node
 * db0 hosting DB (and AddServer) on TCP, and node gate0 serving the HTTP/JSON
 * gateway, which finds DB through the registry and calls it over TCP.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const kv = embeddedKv();
  // The admin node accepts only nodes that present this token (stats pushes are authenticated);
  // db0 and gate0 send it to their peers. db0 itself asks for none, so `goms call` works as printed.
  const pushToken = randomBytes(18).toString("base64url");
  const registry = createRegistry({ kv, ttlMs: 3000 });
  const db = createNode({ identity: { name: "db0", id: 0 }, listen: { host: "127.0.0.1", port: o.port }, discovery: { registry }, auth: { peerToken: pushToken } });
  db.service(DB, createDbService().impl);
  db.service(AddServer, { add: (req) => ({ sum: req.a + req.b }) });
  await db.start();
  const gate = createNode({ identity: { name: "gate0", id: 1 }, discovery: { registry, connectAll: true }, auth: { peerToken: pushToken } });
  await gate.start();
  // The gateway's handlers in the demo's own HTTP server, which also serves the page at /watch/.
  const pageDir = fileURLToPath(new URL("../../dist/demo-page/", import.meta.url));
  const pageBuilt = existsSync(pageDir + "index.html");
  // Set once the server listens: the gateway's CORS list needs the port.
  const mounted: { gateway?: Gateway } = {};
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/watch") res.writeHead(308, { location: "/watch/" }).end();
    else if (path.startsWith("/watch/")) void serveUi(pageDir, path.slice("/watch".length), res);
    else if (mounted.gateway !== undefined) mounted.gateway.handler(req, res);
    else res.writeHead(503).end();
  });
  server.on("upgrade", (req, socket, head) => (mounted.gateway === undefined ? socket.destroy() : mounted.gateway.upgrade(req, socket, head)));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.httpPort, "127.0.0.1", () => resolve());
  });
  const httpPort = (server.address() as { port: number }).port;
  // The page is served from this same host and port, so its calls are same-origin: no CORS entry needed.
  const gateway = (mounted.gateway = createGateway({ node: gate }));
  const base = `http://127.0.0.1:${httpPort}`;

  // The admin console: node "admin" hosts MonitorService; db0 and gate0 push their stats to it.
  const adminNode = createNode({ identity: { name: "admin", id: 2 }, listen: { host: "127.0.0.1", port: 0 }, discovery: { registry }, auth: { token: pushToken } });
  // A push is only accepted for the pushing node itself, at its registered address.
  const store = createMonitorStore({ registered: (name) => adminNode.discovered().get(name)?.node });
  adminNode.service(MonitorService, store.service());
  await adminNode.start();
  const dataDir = await mkdtemp(join(tmpdir(), "goms-demo-admin-"));
  const password = randomBytes(12).toString("base64url");
  // Prometheus /metrics on the console's port, as `goms admin` serves it: db0's calls, and the
  // admission (concurrency limit, admitted and refused calls, queue time) of every node of the demo.
  const collector = createCollector({ node: db });
  const metrics = createMetrics({ node: db, collector, admissionNodes: [db, gate, adminNode] });
  const admin = await createAdmin({
    node: adminNode,
    store,
    registry: kv,
    supervisors: [],
    dataDir,
    metricsHandler: metricsHandler(metrics),
    listen: { port: o.adminPort, host: "127.0.0.1" },
    bootstrapUser: { name: "admin", password },
  }).start();
  const pushers = await Promise.all([db, gate].map((node) => createMonitoring({ node, intervalMs: 2000 }).start()));

  o.out("goms demo (examples/demo): everything on the embedded default, in one process");
  o.out(`  registry  embedded (in-process watch store)`);
  o.out(`  node db0  goms.examples.v1.DB, goms.examples.v1.AddServer on 127.0.0.1:${db.port}`);
  o.out(`  gateway   ${base}/api/{Service}/{Method}  (node gate0 -> db0 over TCP)`);
  o.out(pageBuilt ? `  page      ${base}/watch/  (goms/web in your browser: update a key, watch it change live)` : "  page      not built: run npm run build, then open /watch/");
  o.out(`  admin     ${admin.url}  (one-time login for this run: admin / ${password})`);
  o.out(`  metrics   ${admin.url}/metrics  (Prometheus: db0's calls, every node's admission)`);
  o.out(`  monitor   node admin on 127.0.0.1:${adminNode.port} hosts goms.v1.MonitorService (pushes need this run's token)`);
  o.out("");
  o.out("Try:");
  o.out(`  curl -X POST -d '{"key":"123","value":"aaa"}' ${base}/api/DB/Update`);
  o.out(`  curl -X POST -d '{"key":"123"}' ${base}/api/DB/Query`);
  o.out(`  ${watchCurl(base)}`);
  o.out(`  curl -X POST -d '{"a":1,"b":2}' ${base}/api/AddServer/Add`);
  o.out(`  curl ${base}/openapi.json`);
  o.out(`  npx goms call --addr 127.0.0.1:${db.port} DB.Query '{"key":"123"}'`);
  o.out(`  npx goms call --json --addr 127.0.0.1:${db.port} DB.Watch '{"key":"123"}'   # Ctrl-C stops it`);

  const shutdown = async (): Promise<void> => {
    for (const p of pushers) await p.close();
    await admin.close();
    collector.close();
    store.close();
    await adminNode.close({ graceMs: 500 });
    await rm(dataDir, { recursive: true, force: true });
    server.close();
    await gateway.close({ graceMs: 500 });
    server.closeAllConnections();
    await gate.close({ graceMs: 1000 });
    await db.close({ graceMs: 1000 });
    await registry.close();
    await kv.close();
  };
  if (o.once) {
    o.out("");
    for (const [path, body] of [
      ["/api/DB/Update", '{"key":"123","value":"aaa"}'],
      ["/api/DB/Query", '{"key":"123"}'],
      ["/api/AddServer/Add", '{"a":1,"b":2}'],
    ] as const) {
      // Exactly what `curl -X POST -d <body>` sends.
      const res = await fetch(base + path, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
      o.out(`POST ${path} ${body} -> ${res.status} ${await res.text()}`);
    }
    await shutdown();
    return;
  }
  o.out("Press Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    const stop = (): void => void shutdown().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
