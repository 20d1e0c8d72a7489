/**
 * gateway-sse, stream suite: one process with a goms node hosting
 * BenchService.Stream and a second node in front of it with the HTTP gateway,
 * peered over loopback TCP (as the gateway suite's one-process target): each
 * message crosses real TCP as protobuf and leaves the gateway as an SSE event
 * of proto3 JSON. Runs the built package (dist/), like every goms target.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createGateway } from "../../../dist/gateway/index.js";
import { createNode } from "../../../dist/rpc/index.js";
import { streamMessages } from "../../lib/payload.js";
import { serveTarget, serverPort } from "../../lib/target.js";

/** The gateway's deadline covers a whole stream: long enough for any warmup, window and drain. */
const STREAM_DEADLINE_MS = 3_600_000;

await serveTarget(async (cfg) => {
  let count = 0;
  const backend = createNode({ identity: { name: "bench-sse-backend" }, listen: { host: cfg.host, port: 0 } });
  backend.service(BenchService, {
    // `count` 0: until the caller (the gateway, for its HTTP client) cancels.
    stream: (req) => streamMessages(req, () => count++),
  });
  await backend.start();
  const node = createNode({ identity: { name: "bench-sse-gateway" }, peers: { addresses: [{ host: cfg.host, port: backend.port }] } });
  await node.start();
  const gw = createGateway({
    node,
    listen: { host: cfg.host, port: serverPort(cfg) },
    defaultTimeoutMs: STREAM_DEADLINE_MS,
    maxTimeoutMs: STREAM_DEADLINE_MS,
  });
  await gw.start();
  return {
    count: () => count,
    close: async () => {
      await gw.close();
      await node.close({ graceMs: 0 });
      await backend.close({ graceMs: 0 });
    },
  };
});
