// Node db<id> of the microservice example: service DB (Update/Query/Watch) over an in-memory map.
//   npm run example -- microservice/db [-- --id 1 --port 10003 --registry etcd://127.0.0.1:2379]
//   npx goms run examples/microservice/db.ts --instances 2   (id and port from GOMS_NODE_ID / GOMS_PORT)
import { parseArgs } from "node:util";
import { createNode } from "../../src/rpc/index.js";
import { DB } from "../gen/goms/examples/v1/db_pb.js";
import { createDbService } from "../shared/db-service.js";
import { openRegistry, registryUrl } from "../shared/registry-arg.js";
import { createMonitoring } from "../../src/monitor/index.js";
import { instanceFromEnv, startHealthPort } from "../../src/instances/index.js";

const { values } = parseArgs({
  options: {
    id: { type: "string" },
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    registry: { type: "string" },
  },
});
// Flags win; under `goms run` the instance manager supplies id, port and registry.
const inst = instanceFromEnv();
const id = Number(values.id ?? inst?.nodeId ?? 0);
const port = Number(values.port ?? inst?.port ?? 10001 + 2 * id);
const { kv, registry } = await openRegistry(registryUrl(values.registry ?? inst?.registry));
// GOMS_TOKEN: the admin node's token, so stats pushes to `goms admin` are accepted.
const token = process.env["GOMS_TOKEN"];
const node = createNode({ identity: { name: `db${id}`, id }, listen: { host: values.host, port }, discovery: { registry }, ...(token ? { auth: { peerToken: token } } : {}) });
const db = createDbService({
  onUpdate: (key, value) => console.log(`db${id} Update [key=${key} value=${value}]`),
  onQuery: (ctx) => (ctx.responseMetadata["x-node"] = `db${id}`),
});
node.service(DB, db.impl);
await node.start();
// Push stats to the admin console (goms admin) every 5 s, when one is running.
const monitoring = await createMonitoring({ node, intervalMs: Number(process.env["GOMS_MONITOR_INTERVAL_MS"] ?? 5000) }).start();
// /livez and /readyz for orchestrators' probes when GOMS_HEALTH_PORT is set (`goms run --health-port`).
const health = await startHealthPort(node);
console.log(`db${id} serving goms.examples.v1.DB on ${values.host}:${node.port} (registry ${kv.kind})${health ? `, health on ${health.port}` : ""}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => void monitoring.close().then(() => node.close({ graceMs: 2000 })).then(() => health?.close()).then(() => kv.close()).then(() => process.exit(0)));
}
