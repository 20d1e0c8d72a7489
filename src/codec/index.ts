// TEMPORARY: replaced by the compiled codec (branch codec). Falls back to @bufbuild/protobuf.
import { type DescMessage, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MessageCodec } from "./types.js";
export type { MessageCodec } from "./types.js";
export { Writer } from "./writer.js";
const cache = new WeakMap<DescMessage, MessageCodec>();
export function getCodec<Desc extends DescMessage>(desc: Desc): MessageCodec<Desc> {
  let c = cache.get(desc);
  if (!c) {
    const codec: MessageCodec<Desc> = {
      desc,
      encode: (m) => toBinary(desc, create(desc, m)),
      encodeInto: (m, w) => { const b = toBinary(desc, create(desc, m)); w.ensure(b.length); w.buf.set(b, w.pos); w.pos += b.length; },
      decode: (buf, s = 0, e = buf.length) => fromBinary(desc, buf.subarray(s, e)),
    };
    c = codec as unknown as MessageCodec;
    cache.set(desc, c);
  }
  return c as unknown as MessageCodec<Desc>;
}
