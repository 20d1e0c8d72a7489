import type { MessageCodec } from "../../codec/types.js";
import type { Writer } from "../../codec/writer.js";
import { PayloadCodec } from "../wire/frame.js";

/** How one side of a method turns a value into payload bytes and back. */
export interface PayloadEncoder {
  readonly wire: PayloadCodec;
  encode(value: unknown, w: Writer): void;
}
export interface PayloadDecoder {
  decode(buf: Buffer, start: number, end: number): unknown;
}

export function protoEncoder(codec: MessageCodec): PayloadEncoder {
  return { wire: PayloadCodec.Proto, encode: codec.encodeInto as (v: unknown, w: Writer) => void };
}
export function protoDecoder(codec: MessageCodec): PayloadDecoder {
  return { decode: codec.decode as (b: Buffer, s: number, e: number) => unknown };
}

/** Raw protobuf bytes in and out (rawCall): the payload is copied as it is. */
export const rawEncoder: PayloadEncoder = {
  wire: PayloadCodec.Proto,
  encode(value, w) {
    const bytes = value as Uint8Array;
    w.ensure(bytes.length);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  },
};
export const rawDecoder: PayloadDecoder = {
  decode: (buf, start, end) => new Uint8Array(buf.subarray(start, end)),
};
