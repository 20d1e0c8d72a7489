/** goms: createNode + node.service(BenchService, { echo }). */
import { BenchService } from "../../../src/gen/goms/bench/v1/bench_pb.js";
import { serveTarget, serverPort } from "../../lib/target.js";
import { loadGomsRpc } from "./load.js";

await serveTarget(async (cfg) => {
  const { createNode } = await loadGomsRpc();
  let count = 0;
  const node = createNode({ name: "bench-server", host: cfg.host, port: serverPort(cfg) });
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
