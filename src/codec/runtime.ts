import { protoInt64 } from "@bufbuild/protobuf";
import type { Writer } from "./writer.js";
import * as v from "./varint.js";
import { readString, writeString } from "./utf8.js";

/**
 * The helper object handed to generated encoders/decoders as `h`. Everything
 * the generated source calls lives here, so the source itself never embeds
 * descriptor data except numbers and JSON-quoted property names.
 */

/** Throws the error used for every malformed-input condition. */
function fail(msg: string): never {
  throw new Error(`cannot decode message from binary: ${msg}`);
}

/**
 * Slow path of a tag read (2+ byte tags): reads a uint32 varint, rejecting
 * tags longer than 5 bytes or overflowing uint32 (like BinaryReader.tag()).
 */
function readTag(buf: Uint8Array, pos: number, end: number): number {
  const t = v.readVarint32(buf, pos, end);
  const n = v.state.pos - pos;
  if (n > 5 || (n === 5 && (buf[v.state.pos - 1] as number) > 0x0f)) fail("illegal tag: varint overflows uint32");
  return t;
}

/**
 * Skips one value of wire type `wt` at `pos`, returning the position after it.
 * Groups are skipped recursively up to `limit` levels, checking the end tag.
 */
function skip(buf: Uint8Array, pos: number, end: number, wt: number, fieldNo: number, limit: number): number {
  switch (wt) {
    case 0:
      for (;;) {
        if (pos >= end) fail("premature EOF");
        if ((buf[pos++] as number) < 128) return pos;
      }
    case 1:
      pos += 8;
      break;
    case 5:
      pos += 4;
      break;
    case 2: {
      const len = v.readVarint32(buf, pos, end);
      pos = v.state.pos + len;
      break;
    }
    case 3:
      if (limit <= 0) fail("maximum recursion depth reached");
      for (;;) {
        if (pos >= end) fail("premature EOF in group");
        const t = readTag(buf, pos, end);
        pos = v.state.pos;
        const fn = t >>> 3;
        const w = t & 7;
        if (fn === 0 || w > 5) fail(`illegal tag: field no ${fn} wire type ${w}`);
        if (w === 4) {
          if (fn !== fieldNo) fail("invalid end group tag");
          return pos;
        }
        pos = skip(buf, pos, end, w, fn, limit - 1);
      }
    default:
      fail(`cant skip wire type ${wt}`);
  }
  if (pos > end) fail("premature EOF");
  return pos;
}

/** Fixes up a length prefix reserved as one byte at payload start `rel + w.start - 1`. */
function finishLd(w: Writer, rel: number): void {
  let s = rel + w.start;
  const len = w.pos - s;
  if (len < 128) {
    w.buf[s - 1] = len;
    return;
  }
  const extra = v.varint32Size(len) - 1;
  w.ensure(extra);
  s = rel + w.start;
  const buf = w.buf;
  buf.copyWithin(s + extra, s, w.pos);
  v.writeUint32(buf, s - 1, len);
  w.pos += extra;
}

function keyBool(k: string): unknown {
  return k === "true" ? true : k === "false" ? false : k;
}
function keyInt(k: string): unknown {
  const n = Number.parseInt(k);
  return Number.isFinite(n) ? n : k;
}
function keyInt64(k: string): unknown {
  try {
    return protoInt64.parse(k);
  } catch {
    return k;
  }
}
function keyUint64(k: string): unknown {
  try {
    return protoInt64.uParse(k);
  } catch {
    return k;
  }
}

function toU8(x: unknown): Uint8Array {
  return Array.isArray(x) ? new Uint8Array(x as number[]) : (x as Uint8Array);
}

/** Sets an own property, also for the key "__proto__" (like @bufbuild's setOwn). */
export function setOwn(obj: Record<string, unknown>, key: unknown, value: unknown): void {
  const k = String(key);
  if (k === "__proto__") {
    Object.defineProperty(obj, k, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[k] = value;
  }
}

export const H = {
  s: v.state,
  fail,
  readTag,
  skip,
  finishLd,
  keyBool,
  keyInt,
  keyInt64,
  keyUint64,
  toU8,
  setOwn,
  own: Object.prototype.hasOwnProperty,
  i32: v.checkInt32,
  u32: v.checkUint32,
  neg: v.writeNegInt32,
  wi64: v.writeInt64,
  wu64: v.writeUint64,
  wf64: v.writeFixed64,
  wdbl: v.writeDouble,
  wflt: v.writeFloat,
  wstr: writeString,
  rv32: v.readVarint32,
  ri64: v.readInt64,
  rs64: v.readSint64,
  rbool: v.readBool,
  rf64: v.readFixed64,
  rdbl: v.readDouble,
  rflt: v.readFloat,
  rstr: readString,
  i32b: v.int32Bytes,
};

export type Helpers = typeof H;
