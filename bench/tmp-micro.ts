import { Writer, decodeBenchFrame, encodeBenchFrame } from "./targets/raw-codec/codec-frame.js";
import { makeBenchMessage } from "./lib/payload.js";
import { getCodec } from "../dist/codec/index.js";
import { BenchmarkMessageSchema } from "../dist/gen/goms/bench/v1/bench_pb.js";
const codec = getCodec(BenchmarkMessageSchema);
const w = new Writer();
const w2 = new Writer();
const msg = makeBenchMessage();
const N = 100000;
for (let r = 0; r < 4; r++) {
  let t = performance.now();
  let f: Buffer = Buffer.alloc(0);
  for (let i = 0; i < N; i++) f = encodeBenchFrame(w, msg);
  const enc = (performance.now() - t) * 1000 / N;
  t = performance.now();
  let s = 0;
  for (let i = 0; i < N; i++) s += decodeBenchFrame(f).field2;
  const dec = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < N; i++) { w2.rewind(); codec.encodeInto(msg, w2); }
  const enc2 = (performance.now() - t) * 1000 / N;
  console.log(`encFrame ${enc.toFixed(2)} decFrame ${dec.toFixed(2)} encodeInto-rewind ${enc2.toFixed(2)} µs`, s > 0);
}
