/** raw-codec, stream suite: one socket per stream; every frame is decoded with goms's codec and counted. */
import type { BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import type { TargetConfig } from "../../lib/protocol.js";
import { checkStreamResponse } from "../../lib/payload.js";
import { CHECK_STREAM_COUNT, streamMode, type StreamSink } from "../../lib/stream-load.js";
import { SkipTarget, clientTarget } from "../../lib/target.js";
import { connectSocket } from "../raw/endpoints.js";
import { FrameReader } from "../raw/framing.js";
import { decodeBenchFrame } from "./codec-frame.js";

/** Opens one stream of `count` messages (0: until canceled); returns its cancel. */
async function openStream(cfg: TargetConfig, count: number, onMessage: (m: BenchmarkMessage) => void, sink: Omit<StreamSink, "message">): Promise<() => void> {
  const socket = await connectSocket(cfg);
  const reader = new FrameReader((f) => onMessage(decodeBenchFrame(f)));
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  socket.on("error", (e) => sink.end(e));
  socket.on("close", () => sink.end(undefined));
  const req = Buffer.alloc(8);
  req.writeUInt32BE(4, 0);
  req.writeUInt32BE(count, 4);
  socket.write(req);
  return () => socket.destroy();
}

await clientTarget(async (cfg) => {
  if (streamMode() !== "throughput") throw new SkipTarget("raw-codec has no ping-pong");
  const got: BenchmarkMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    openStream(cfg, CHECK_STREAM_COUNT, (m) => got.push(m), { end: (e) => (e === undefined ? resolve() : reject(e as Error)) }).catch(reject);
  });
  checkStreamResponse("raw-codec", got, CHECK_STREAM_COUNT);
  const cancels = new Set<() => void>();
  return {
    call: {
      kind: "stream",
      open: (sink) => {
        let cancel: (() => void) | undefined;
        let canceled = false;
        openStream(cfg, 0, () => sink.message(), sink).then(
          (c) => {
            cancel = c;
            cancels.add(c);
            if (canceled) c();
          },
          (e: unknown) => sink.end(e),
        );
        return () => {
          canceled = true;
          cancel?.();
        };
      },
    },
    close: async () => {
      for (const c of cancels) c();
    },
  };
});
