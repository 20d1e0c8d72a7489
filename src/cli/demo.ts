import { AddServer } from "../gen/goms/examples/v1/add_pb.js";
import { createNode } from "../rpc/index.js";

export interface DemoOptions {
  port: number;
  once: boolean;
  out: (line: string) => void;
}

/**
 * The demo on the embedded default: node rpc0 hosting AddServer, and a client
 * node calling it over real TCP. Serves until SIGINT/SIGTERM unless `once`.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const server = createNode({ name: "rpc0", id: 0, host: "127.0.0.1", port: o.port });
  server.service(AddServer, { add: (req) => ({ sum: req.a + req.b }) });
  await server.start();
  const client = createNode({ name: "demo-client", peers: [{ host: "127.0.0.1", port: server.port, name: "rpc0" }] });
  await client.start();
  o.out(`goms demo: node rpc0 serving goms.examples.v1.AddServer on 127.0.0.1:${server.port}`);
  const add = client.client(AddServer);
  for (const [a, b] of [[1, 2], [20, 22], [-5, 5]] as const) {
    const t0 = performance.now();
    const res = await add.add({ a, b }, { timeoutMs: 2000 });
    o.out(`  AddServer.Add(${a}, ${b}) = ${res.sum}   (${(performance.now() - t0).toFixed(2)} ms over TCP)`);
  }
  await client.close();
  if (o.once) {
    await server.close();
    return;
  }
  o.out("");
  o.out("Try it from another terminal:");
  o.out(`  npx goms call --addr 127.0.0.1:${server.port} AddServer.Add '{"a":1,"b":2}'`);
  o.out(`  npx goms info --addr 127.0.0.1:${server.port}`);
  o.out("Press Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    const stop = (): void => void server.close({ graceMs: 2000 }).then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
