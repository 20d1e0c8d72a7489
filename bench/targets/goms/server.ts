/**
 * goms: createNode + node.service(BenchService, { echo, stream, pingPong }): the
 * rpc suite calls echo, the stream suite the two streams. Like every goms
 * target, it runs the built package (dist/, what users run), not src/ through tsx.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { streamMessages, streamMessagesSync } from "../../lib/payload.js";
import { serveTarget, serverPort } from "../../lib/target.js";

await serveTarget(async (cfg) => {
  let count = 0;
  // GOMS_BENCH_SYNC_STREAM=1: the Stream handler is a function* (the stream suite's goms-sync row).
  const syncStream = process.env.GOMS_BENCH_SYNC_STREAM === "1";
  // GOMS_BENCH_LIMITER: JSON of limits.adaptiveConcurrency settings to compare (e.g. {"slackMs":3}); the defaults otherwise.
  const limiter = process.env.GOMS_BENCH_LIMITER;
  const node = createNode({
    identity: { name: "bench-server" },
    listen: { host: cfg.host, port: serverPort(cfg) },
    // GOMS_BENCH_INHERIT_CONTEXT=0: no AsyncLocalStorage (the stream suite's goms-noctx row).
    calls: { inheritContext: process.env.GOMS_BENCH_INHERIT_CONTEXT !== "0" },
    ...(limiter !== undefined ? { limits: { adaptiveConcurrency: JSON.parse(limiter) as Record<string, number> } } : {}),
  });
  node.service(BenchService, {
    echo(req) {
      count++;
      req.field1 = "OK";
      req.field2 = 100;
      return req;
    },
    stream: (req) => (syncStream ? streamMessagesSync(req, () => count++) : streamMessages(req, () => count++)),
    async *pingPong(reqs) {
      for await (const req of reqs) {
        count++;
        req.field1 = "OK";
        req.field2 = 100;
        yield req;
      }
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
