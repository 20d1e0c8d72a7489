/**
 * goms, stream suite: `bench.stream({ count: 0n })` read with for-await
 * (throughput; in "stall" mode the loop stops pulling for the measured window),
 * or `bench.pingPong(requests)` one message at a time (ping-pong).
 */
import { BenchService, type BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { checkEchoResponse, checkStreamResponse, makeBenchMessage } from "../../lib/payload.js";
import { PushIterable, pingPongCalls, type PingPongLink } from "../../lib/ping-pong.js";
import { CHECK_STREAM_COUNT, stallGate, streamMode } from "../../lib/stream-load.js";
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
  if (mode === "throughput" || mode === "stall") {
    const got: BenchmarkMessage[] = [];
    for await (const m of bench.stream({ count: BigInt(CHECK_STREAM_COUNT) })) got.push(m);
    checkStreamResponse("goms", got, CHECK_STREAM_COUNT);
    const gate = mode === "stall" ? stallGate() : undefined;
    return {
      call: {
        kind: "stream",
        ...(gate !== undefined ? { onWindow: gate.onWindow } : {}),
        open: (sink) => {
          const ac = new AbortController();
          (async () => {
            for await (const _ of bench.stream({ count: 0n }, { signal: ac.signal })) {
              // Stalled: the loop does not pull, so goms stops granting window and the server's generator stays suspended.
              const wait = gate?.wait();
              if (wait !== undefined) await wait;
              sink.message();
            }
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
