// The rpc example's client: calls AddServer.Add on rpc0 and prints the result.
//   npm run example -- rpc/client [-- --port 12323 --a 1 --b 2]
import { parseArgs } from "node:util";
import { createNode } from "../../src/rpc/index.js";
import { GomsError } from "../../src/errors/index.js";
import { AddServer } from "../gen/goms/examples/v1/add_pb.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "12323" },
    host: { type: "string", default: "127.0.0.1" },
    a: { type: "string", default: "1" },
    b: { type: "string", default: "2" },
  },
});

const node = createNode({ identity: { name: "rpc-client" }, peers: { addresses: [{ host: values.host, port: Number(values.port), name: "rpc0" }] } });
await node.start();
try {
  const add = node.client(AddServer);
  const res = await add.add({ a: Number(values.a), b: Number(values.b) }, { timeoutMs: 2000 });
  console.log(`${values.a} + ${values.b} = ${res.sum}`);
} catch (err) {
  const e = GomsError.from(err);
  console.error(`call failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await node.close();
}
