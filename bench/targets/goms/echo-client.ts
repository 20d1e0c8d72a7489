/** The goms echo client both unary clients start with: a node with the server as a static peer, and `bench.echo(msg)` checked once. */
import { BenchService, type BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode, type GomsNode } from "../../../dist/rpc/index.js";
import { checkEchoResponse, makeBenchMessage } from "../../lib/payload.js";
import { serverPort } from "../../lib/target.js";
import type { TargetConfig } from "../../lib/protocol.js";

export async function startEchoClient(cfg: TargetConfig): Promise<{ node: GomsNode; echo: () => Promise<BenchmarkMessage> }> {
  const node = createNode({ identity: { name: "bench-client" }, peers: { addresses: [{ host: cfg.host, port: serverPort(cfg) }] } });
  await node.start();
  const bench = node.client(BenchService);
  const msg = makeBenchMessage();
  const echo = (): Promise<BenchmarkMessage> => bench.echo(msg);
  checkEchoResponse("goms", await echo());
  return { node, echo };
}
