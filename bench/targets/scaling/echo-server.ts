/**
 * `rpc --instances` scaling, one server instance: the BenchService echo on a goms
 * node, run N times by `goms run` (identity and port from GOMS_NODE_ID / GOMS_PORT,
 * the instance convention). Built package (dist/), like every goms target.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { instanceFromEnv } from "../../../dist/instances/index.js";

const inst = instanceFromEnv();
const id = inst?.nodeId ?? 0;
const node = createNode({ identity: { name: `bench-server${id}`, id }, listen: { host: "127.0.0.1", port: inst?.port ?? 0 } });
node.service(BenchService, {
  echo(req) {
    req.field1 = "OK";
    req.field2 = 100;
    return req;
  },
});
await node.start();
console.log(`bench-server${id} listening on ${node.port}`);
process.once("SIGTERM", () => void node.close({ graceMs: 500 }).then(() => process.exit(0)));
