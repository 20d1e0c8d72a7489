/**
 * gateway suite, backend process: a goms node hosting goms.examples.v1.DB over TCP
 * whose Query echoes the key back as the value (a DB.Query-like echo).
 */
import { createNode } from "../../../dist/rpc/index.js";
import { DB } from "../../../dist/gen/goms/examples/v1/db_pb.js";

const node = createNode({ name: "db0", host: "127.0.0.1", port: 0 });
node.service(DB, {
  query: (req) => ({ value: req.key }),
  update: () => ({}),
});
await node.start();
process.send?.({ port: node.port });
process.on("disconnect", () => void node.close({ graceMs: 0 }).then(() => process.exit(0)));
