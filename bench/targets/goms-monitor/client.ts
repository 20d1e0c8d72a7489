/** goms RPC echo client; with monitoring on it pushes to the MonitorService the server hosts (found through its HELLO). */
import { BenchService, type BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { checkEchoResponse, makeBenchMessage } from "../../lib/payload.js";
import { clientTarget, serverPort } from "../../lib/target.js";
import { enableMonitoring } from "./monitoring.js";

await clientTarget(async (cfg) => {
  const node = createNode({ identity: { name: "bench-client" }, peers: { addresses: [{ host: cfg.host, port: serverPort(cfg) }] } });
  await node.start();
  const stop = enableMonitoring(node);
  const bench = node.client(BenchService);
  const msg = makeBenchMessage();
  const fn = (): Promise<BenchmarkMessage> => bench.echo(msg);
  checkEchoResponse("goms", await fn());
  return {
    call: { kind: "promise", fn },
    close: async () => {
      stop();
      await node.close();
    },
  };
});
