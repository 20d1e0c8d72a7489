/** raw-codec: raw's client, encoding each request and decoding each response with goms's codec. */
import type { BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";
import { checkEchoResponse, makeBenchMessage } from "../../lib/payload.js";
import { clientTarget } from "../../lib/target.js";
import { connectFramed } from "../raw/endpoints.js";
import { Writer, decodeBenchFrame, encodeBenchFrame } from "./codec-frame.js";

await clientTarget(async (cfg) => {
  const w = new Writer();
  const msg = makeBenchMessage();
  let last: BenchmarkMessage | undefined;
  const client = await connectFramed(cfg, {
    request: () => encodeBenchFrame(w, msg),
    response: (frame) => {
      last = decodeBenchFrame(frame);
    },
  });
  const call = client.call;
  if (call.kind !== "callback") throw new Error("raw-codec: expected a callback call");
  await new Promise<void>((resolve, reject) => call.invoke((err) => (err === undefined ? resolve() : reject(err as Error))));
  checkEchoResponse("raw-codec", last);
  return client;
});
