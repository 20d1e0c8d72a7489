/**
 * goms, stream suite's "unary beside a busy stream" part: closed-loop
 * `bench.echo(msg)` calls, as the rpc suite's client makes them. With
 * BENCH_MIXED_STREAM=1 the same client node first opens one server stream
 * (`bench.stream({ count: 0n })`) and keeps reading it as fast as it can for
 * the whole run: the unary calls share the connection with a stream that has
 * its window full most of the time. With BENCH_MIXED_STREAM=apart the stream
 * comes from a second client node in the same process, on a connection of
 * its own: the same work for both processes, without the sharing, so that
 * the two together separate what sharing a connection costs the calls from
 * what two busy processes on two cores cost them.
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode, type GomsNode } from "../../../dist/rpc/index.js";
import { clientTarget, serverPort } from "../../lib/target.js";
import { startEchoClient } from "./echo-client.js";

/** Stream messages read before the unary calls start: the stream is under way, not opening. */
const STREAM_HEAD_START = 1000;

await clientTarget(async (cfg) => {
  const { node, echo: fn } = await startEchoClient(cfg);
  const mode = process.env["BENCH_MIXED_STREAM"];
  let apart: GomsNode | undefined;
  if (mode === "apart") {
    apart = createNode({ identity: { name: "bench-stream-client" }, peers: { addresses: [{ host: cfg.host, port: serverPort(cfg) }] } });
    await apart.start();
  }
  const bench = (apart ?? node).client(BenchService);
  const ac = new AbortController();
  let streamed = 0;
  let streamError: unknown;
  if (mode === "1" || mode === "apart") {
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
      await apart?.close();
    },
  };
});
