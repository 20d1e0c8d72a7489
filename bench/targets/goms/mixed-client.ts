/**
 * goms, stream suite's "unary beside a busy stream" part: closed-loop
 * `bench.echo(msg)` calls, as the rpc suite's client makes them. With
 * BENCH_MIXED_STREAM=1 the same client node first opens one server stream
 * (`bench.stream({ count: 0n })`) and keeps reading it as fast as it can for
 * the whole run: the unary calls share the connection with a stream that has
 * its window full most of the time.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { clientTarget } from "../../lib/target.js";
import { startEchoClient } from "./echo-client.js";

/** Stream messages read before the unary calls start: the stream is under way, not opening. */
const STREAM_HEAD_START = 1000;

await clientTarget(async (cfg) => {
  const { node, echo: fn } = await startEchoClient(cfg);
  const bench = node.client(BenchService);
  const ac = new AbortController();
  let streamed = 0;
  let streamError: unknown;
  if (process.env["BENCH_MIXED_STREAM"] === "1") {
    let started!: () => void;
    const headStart = new Promise<void>((resolve) => (started = resolve));
    void (async () => {
      for await (const _ of bench.stream({ count: 0n }, { signal: ac.signal })) {
        if (++streamed === STREAM_HEAD_START) started();
      }
    })().catch((e: unknown) => {
      streamError = e;
      started();
    });
    await headStart;
    if (streamError !== undefined) throw streamError;
  }
  return {
    call: {
      kind: "promise",
      // A stream that ended mid-run would make the "with stream" figures a lie: fail the calls instead.
      fn: () => (streamError !== undefined && !ac.signal.aborted ? Promise.reject(new Error(`busy stream ended: ${String(streamError)}`)) : fn()),
    },
    close: async () => {
      ac.abort();
      await node.close();
    },
  };
});
