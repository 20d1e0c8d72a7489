// The gateway example's gate0: goms node on 127.0.0.1:10002, HTTP/JSON on 127.0.0.1:8091.
//   npm run example -- gateway/gate [-- --http-port 8091 --registry watch://127.0.0.1:12345]
// Then:
//   curl -X POST -d '{"key":"123","value":"aaa"}' http://127.0.0.1:8091/api/DB/Update   -> {}
//   curl -X POST -d '{"key":"123"}' http://127.0.0.1:8091/api/DB/Query                   -> {"value":"aaa"}
//   curl -N -H 'x-goms-timeout-ms: 60000' -d '{"key":"123"}' http://127.0.0.1:8091/api/DB/Watch
//     -> event: message / data: {"key":"123","value":"aaa","version":1}, then one event per Update
import { parseArgs } from "node:util";
import { createNode } from "../../src/rpc/index.js";
import { createGateway } from "../../src/gateway/index.js";
import { openRegistry, registryUrl } from "../shared/registry-arg.js";
import { watchCurl } from "../shared/db-service.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "10002" },
    "http-port": { type: "string", default: "8091" },
    host: { type: "string", default: "127.0.0.1" },
    registry: { type: "string" },
  },
});
const { kv, registry } = await openRegistry(registryUrl(values.registry));
const node = createNode({ identity: { name: "gate0", id: 1 }, listen: { host: values.host, port: Number(values.port) }, discovery: { registry, connectAll: true } });
await node.start();
const gateway = await createGateway({ node, listen: { port: Number(values["http-port"]), host: values.host } }).start();
const httpPort = gateway.port;
console.log(`gate0 on ${values.host}:${node.port}; HTTP gateway on http://${values.host}:${httpPort}/api/{Service}/{Method}`);
console.log(`Follow a key as it changes:\n  ${watchCurl(`http://${values.host}:${httpPort}`)}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => void gateway.close().then(() => node.close({ graceMs: 2000 })).then(() => kv.close()).then(() => process.exit(0)));
}
