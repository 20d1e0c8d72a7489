/**
 * goms: createNode + node.service(BenchService, { echo }). Like every goms
 * target, it runs the built package (dist/, what users run), not src/ through tsx.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { serveTarget, serverPort } from "../../lib/target.js";

await serveTarget(async (cfg) => {
  let count = 0;
  const node = createNode({ identity: { name: "bench-server" }, listen: { host: cfg.host, port: serverPort(cfg) } });
  node.service(BenchService, {
    echo(req) {
      count++;
      req.field1 = "OK";
      req.field2 = 100;
      return req;
    },
  });
  await node.start();
  return {
    count: () => count,
    close: async () => {
      await node.close();
    },
  };
});
