// The rpc example's client: calls AddServer.Add on rpc0 and prints the result,
// then follows the Count server stream and runs an Accumulate bidi exchange.
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
  const counted: number[] = [];
  for await (const m of add.count({ start: res.sum, count: 3 }, { timeoutMs: 2000 })) counted.push(m.sum);
  console.log(`count from ${res.sum}: ${counted.join(" ")}`);
  async function* pairs(): AsyncGenerator<{ a: number; b: number }> {
    for (let i = 1; i <= 3; i++) yield { a: i, b: i };
  }
  const totals: number[] = [];
  for await (const m of add.accumulate(pairs(), { timeoutMs: 2000 })) totals.push(m.sum);
  console.log(`running totals of 1+1, 2+2, 3+3: ${totals.join(" ")}`);
} catch (err) {
  const e = GomsError.from(err);
  console.error(`call failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await node.close();
}
