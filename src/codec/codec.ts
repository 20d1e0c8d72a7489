import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { compiledMessage } from "./compile-group.js";
import type { MessageCodec } from "./types.js";
import { Writer } from "./writer.js";

const codecs = new WeakMap<DescMessage, MessageCodec>();

/** Reused by encode(); taken while in use so that re-entrant calls get their own. */
let scratch: Writer | undefined;

/**
 * Returns the binary codec for `desc` (any DescMessage, generated or built at
 * runtime), compiling it with `new Function` on first use and caching it per
 * descriptor object.
 */
export function getCodec<Desc extends DescMessage>(desc: Desc): MessageCodec<Desc> {
  let codec = codecs.get(desc);
  if (codec === undefined) {
    codec = makeCodec(desc);
    codecs.set(desc, codec);
  }
  return codec as unknown as MessageCodec<Desc>;
}

function makeCodec<Desc extends DescMessage>(desc: Desc): MessageCodec<Desc> {
  const { enc, dec } = compiledMessage(desc);
  return {
    desc,
    encodeInto(msg: MessageInitShape<Desc>, w: Writer): void {
      enc(msg, w);
    },
    encode(msg: MessageInitShape<Desc>): Uint8Array {
      const w = scratch ?? new Writer(16 * 1024);
      scratch = undefined;
      try {
        w.rewind(w.start);
        enc(msg, w);
        const out = new Uint8Array(w.pos - w.start);
        out.set(w.buf.subarray(w.start, w.pos));
        return out;
      } finally {
        w.rewind(w.start);
        scratch = w;
      }
    },
    decode(buf: Uint8Array, start = 0, end = buf.length): MessageShape<Desc> {
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= buf.length)) {
        throw new RangeError(`decode: invalid range [${start}, ${end}) of ${buf.length} bytes`);
      }
      return dec(buf, start, end, undefined, 1) as MessageShape<Desc>;
    },
  };
}
