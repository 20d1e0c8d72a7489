/**
 * goms, stream suite: `bench.stream({ count: 0n })` read with for-await
 * (throughput), or `bench.pingPong(requests)` one message at a time (ping-pong).
 */
import { BenchService, type BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { checkEchoResponse, checkStreamResponse, makeBenchMessage } from "../../lib/payload.js";
import { PushIterable, pingPongCalls, type PingPongLink } from "../../lib/ping-pong.js";
import { CHECK_STREAM_COUNT, streamMode } from "../../lib/stream-load.js";
import { clientTarget, serverPort } from "../../lib/target.js";

await clientTarget(async (cfg) => {
  const mode = streamMode();
  const node = createNode({
    identity: { name: "bench-client" },
    peers: { addresses: [{ host: cfg.host, port: serverPort(cfg) }] },
    calls: { inheritContext: process.env.GOMS_BENCH_INHERIT_CONTEXT !== "0" },
  });
  await node.start();
  const bench = node.client(BenchService);
  const close = async (): Promise<void> => {
    await node.close();
  };
  if (mode === "throughput") {
    const got: BenchmarkMessage[] = [];
    for await (const m of bench.stream({ count: BigInt(CHECK_STREAM_COUNT) })) got.push(m);
    checkStreamResponse("goms", got, CHECK_STREAM_COUNT);
    return {
      call: {
        kind: "stream",
        open: (sink) => {
          const ac = new AbortController();
          (async () => {
            for await (const _ of bench.stream({ count: 0n }, { signal: ac.signal })) sink.message();
          })().then(
            () => sink.end(undefined),
            (e: unknown) => sink.end(e),
          );
          return () => ac.abort();
        },
      },
      close,
    };
  }
  const open = (): PingPongLink => {
    const reqs = new PushIterable<BenchmarkMessage>();
    const res = bench.pingPong(reqs)[Symbol.asyncIterator]();
    return {
      roundTrip: async (m) => {
        reqs.push(m as BenchmarkMessage);
        const r = await res.next();
        if (r.done === true) throw new Error("goms: ping-pong stream ended");
        return r.value;
      },
      close: () => {
        reqs.end();
        void res.return?.();
      },
    };
  };
  const pp = pingPongCalls(open, makeBenchMessage());
  checkEchoResponse("goms", await pp.call.fn());
  return {
    call: pp.call,
    close: async () => {
      pp.close();
      await close();
    },
  };
});
