/**
 * raw-codec framing: the 581-byte BenchmarkMessage encoded with goms's codec (the
 * built package, as the goms targets use) straight into a 4-byte length-prefixed
 * frame, and decoded from one. No copy beyond what the codec itself does.
 */
import { Writer, getCodec } from "../../../dist/codec/index.js";
import { BenchmarkMessageSchema, type BenchmarkMessage } from "../../gen/goms/bench/v1/bench_pb.js";

const codec = getCodec(BenchmarkMessageSchema);

export { Writer };

/** Appends `msg` as one frame to what `w` holds (a stream batches several before one take()). */
export function appendBenchFrame(w: Writer, msg: BenchmarkMessage): void {
  const rel = w.pending;
  w.ensure(4);
  w.pos += 4;
  codec.encodeInto(msg, w);
  // The codec may move the region to a new slab: the header stays `rel` bytes after w.start.
  w.buf.writeUInt32BE(w.pending - rel - 4, w.start + rel);
}

/** Encodes `msg` as one frame and takes it. */
export function encodeBenchFrame(w: Writer, msg: BenchmarkMessage): Buffer {
  appendBenchFrame(w, msg);
  return w.take();
}

export function decodeBenchFrame(frame: Buffer): BenchmarkMessage {
  return codec.decode(frame, 4, frame.length);
}
