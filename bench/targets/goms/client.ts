/** goms: createNode with the server as a static peer; `bench.echo(msg)` per call. */
import { BenchService, type BenchmarkMessage } from "../../../src/gen/goms/bench/v1/bench_pb.js";
import { checkEchoResponse, makeBenchMessage } from "../../lib/payload.js";
import { clientTarget, serverPort } from "../../lib/target.js";
import { isBenchClient, loadGomsRpc } from "./load.js";

await clientTarget(async (cfg) => {
  const { createNode } = await loadGomsRpc();
  const node = createNode({ name: "bench-client", peers: [{ host: cfg.host, port: serverPort(cfg) }] });
  await node.start();
  const bench = node.client(BenchService);
  if (!isBenchClient(bench)) throw new Error("goms client(BenchService) has no echo method");
  const msg = makeBenchMessage();
  const fn = (): Promise<BenchmarkMessage> => bench.echo(msg);
  checkEchoResponse("goms", await fn());
  return {
    call: { kind: "promise", fn },
    close: async () => {
      await node.close();
    },
  };
});
