// The rpc example's server: node "rpc0" on 127.0.0.1:12323 hosting AddServer:
// Add (a + b), Count (a server stream of numbers) and Accumulate (bidi: running totals).
//   npm run example -- rpc/server [-- --port 12323]
import { parseArgs } from "node:util";
import { createNode } from "../../src/rpc/index.js";
import { AddServer } from "../gen/goms/examples/v1/add_pb.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "12323" }, host: { type: "string", default: "127.0.0.1" } } });

const node = createNode({ identity: { name: "rpc0", id: 0 }, listen: { host: values.host, port: Number(values.port) } });
node.service(AddServer, {
  add(req) {
    return { sum: req.a + req.b };
  },
  async *count(req) {
    const n = req.count === 0 ? 10 : req.count;
    for (let i = 1; i <= n; i++) yield { sum: req.start + i };
  },
  async *accumulate(reqs) {
    let total = 0;
    for await (const r of reqs) {
      total += r.a + r.b;
      yield { sum: total };
    }
  },
});
await node.start();
console.log(`rpc0 listening on ${values.host}:${node.port}, hosting goms.examples.v1.AddServer`);

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void node.close({ graceMs: 2000 }).then(() => process.exit(0));
  });
}
