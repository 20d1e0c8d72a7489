import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Writer } from "./writer.js";

/**
 * A compiled binary codec for one message type. Byte-compatible with
 * @bufbuild/protobuf's toBinary/fromBinary.
 */
export interface MessageCodec<Desc extends DescMessage = DescMessage> {
  readonly desc: Desc;
  /** Appends the encoding of `msg` at `w.pos`, advancing `w.pos`. Accepts init shapes (missing fields = defaults). */
  encodeInto(msg: MessageInitShape<Desc>, w: Writer): void;
  /** Encodes to a fresh Uint8Array. */
  encode(msg: MessageInitShape<Desc>): Uint8Array;
  /** Decodes `buf[start, end)` into a full message, as fromBinary would. Throws on malformed input. */
  decode(buf: Uint8Array, start?: number, end?: number): MessageShape<Desc>;
}
