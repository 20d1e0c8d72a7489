import { protoInt64 } from "@bufbuild/protobuf";

/**
 * Varint and fixed-width helpers shared by the generated encoders/decoders.
 *
 * Writers take `(buf, pos, value)` and return the new position; the caller has
 * already guaranteed enough capacity (10 bytes for a varint, 8 for fixed64).
 * Readers that must return two things (value and new position) leave the new
 * position in `state.pos`.
 */

/** Scratch output of the multi-result readers. Single-threaded, read immediately. */
export const state = { pos: 0, lo: 0, hi: 0 };

/** Number of bytes of `v` as an unsigned 32-bit varint. */
export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes an unsigned 32-bit varint. */
export function writeUint32(buf: Uint8Array, pos: number, v: number): number {
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes a 64-bit varint given as two's complement 32-bit halves. */
export function writeVarint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  lo >>>= 0;
  hi >>>= 0;
  while (hi !== 0 || lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** Writes a negative int32 sign-extended to 10 bytes, as protobuf requires. */
export function writeNegInt32(buf: Uint8Array, pos: number, v: number): number {
  for (let i = 0; i < 9; i++) {
    buf[pos++] = (v & 127) | 128;
    v >>= 7;
  }
  buf[pos++] = 1;
  return pos;
}

function toNumberArg(v: unknown, what: string): number {
  if (typeof v === "string") return Number(v);
  if (typeof v !== "number") throw new Error(`invalid ${what}: ${typeof v}`);
  return v;
}

/** Validates/coerces an int32 value like @bufbuild's BinaryWriter (numbers or numeric strings). */
export function checkInt32(v: unknown): number {
  const n = toNumberArg(v, "int32");
  if (!Number.isInteger(n) || n > 0x7fffffff || n < -0x80000000) throw new Error(`invalid int32: ${String(v)}`);
  return n;
}

/** Validates/coerces a uint32 value like @bufbuild's BinaryWriter. */
export function checkUint32(v: unknown): number {
  const n = toNumberArg(v, "uint32");
  if (!Number.isInteger(n) || n > 0xffffffff || n < 0) throw new Error(`invalid uint32: ${String(v)}`);
  return n;
}

/** Validates/coerces a float32 value like @bufbuild's BinaryWriter. */
export function checkFloat32(v: unknown): number {
  let n: number;
  if (typeof v === "string") {
    n = Number(v);
    if (Number.isNaN(n) && v !== "NaN") throw new Error(`invalid float32: ${v}`);
  } else if (typeof v !== "number") {
    throw new Error(`invalid float32: ${typeof v}`);
  } else {
    n = v;
  }
  if (!Number.isFinite(Math.fround(n)) && Number.isFinite(n)) throw new Error(`invalid float32: ${n}`);
  return n;
}

/** int64 / sint64 (zigzag when `zz`) from bigint, number or string, as varint. */
export function writeInt64(buf: Uint8Array, pos: number, v: unknown, zz: boolean): number {
  if (!zz && typeof v === "bigint" && v >= 0n && v < 0x80000000n) return writeUint32(buf, pos, Number(v));
  if (!zz && typeof v === "number" && v >= 0 && v < 0x80000000 && Number.isInteger(v)) return writeUint32(buf, pos, v);
  const tc = protoInt64.enc(v as bigint | number | string);
  let lo = tc.lo;
  let hi = tc.hi;
  if (zz) {
    const sign = hi >> 31;
    const nlo = (lo << 1) ^ sign;
    hi = ((hi << 1) | (lo >>> 31)) ^ sign;
    lo = nlo;
  }
  return writeVarint64(buf, pos, lo, hi);
}

/** uint64 from bigint, number or string, as varint. */
export function writeUint64(buf: Uint8Array, pos: number, v: unknown): number {
  if (typeof v === "bigint" && v >= 0n && v < 0x80000000n) return writeUint32(buf, pos, Number(v));
  const tc = protoInt64.uEnc(v as bigint | number | string);
  return writeVarint64(buf, pos, tc.lo, tc.hi);
}

function writeFixed32(buf: Uint8Array, pos: number, v: number): number {
  buf[pos] = v & 255;
  buf[pos + 1] = (v >>> 8) & 255;
  buf[pos + 2] = (v >>> 16) & 255;
  buf[pos + 3] = (v >>> 24) & 255;
  return pos + 4;
}

/** fixed64 (unsigned) or sfixed64 (signed) as 8 little-endian bytes. */
export function writeFixed64(buf: Uint8Array, pos: number, v: unknown, signed: boolean): number {
  const tc = signed ? protoInt64.enc(v as bigint | number | string) : protoInt64.uEnc(v as bigint | number | string);
  return writeFixed32(buf, writeFixed32(buf, pos, tc.lo), tc.hi);
}

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function writeDouble(buf: Uint8Array, pos: number, v: unknown): number {
  f64[0] = v as number; // same ToNumber coercion DataView#setFloat64 applies
  for (let i = 0; i < 8; i++) buf[pos + i] = f64b[LE ? i : 7 - i] as number;
  return pos + 8;
}

export function writeFloat(buf: Uint8Array, pos: number, v: unknown): number {
  f32[0] = typeof v === "number" ? checkFloat32(v) : checkFloat32(v);
  for (let i = 0; i < 4; i++) buf[pos + i] = f32b[LE ? i : 3 - i] as number;
  return pos + 4;
}

export function readDouble(buf: Uint8Array, pos: number): number {
  for (let i = 0; i < 8; i++) f64b[LE ? i : 7 - i] = buf[pos + i] as number;
  return f64[0] as number;
}

export function readFloat(buf: Uint8Array, pos: number): number {
  for (let i = 0; i < 4; i++) f32b[LE ? i : 3 - i] = buf[pos + i] as number;
  return f32[0] as number;
}

/**
 * Reads a varint of up to 10 bytes at `pos` (< end), keeping the low 32 bits
 * like @bufbuild's varint32read. Throws when it runs past `end` or is longer
 * than 10 bytes. New position in `state.pos`; returns the value as uint32.
 */
export function readVarint32(buf: Uint8Array, pos: number, end: number): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw new Error("premature EOF: truncated varint");
    const b = buf[pos++] as number;
    if (shift < 32) result |= (b & 127) << shift;
    if (b < 128) {
      state.pos = pos;
      return result >>> 0;
    }
  }
  throw new Error("invalid varint");
}

/** Reads a 64-bit varint into state.lo/state.hi (new position in state.pos). */
export function readVarint64(buf: Uint8Array, pos: number, end: number): void {
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw new Error("premature EOF: truncated varint");
    const b = buf[pos++] as number;
    if (shift < 28) {
      lo |= (b & 127) << shift;
    } else if (shift === 28) {
      lo |= (b & 15) << 28;
      hi = (b & 127) >> 4;
    } else {
      hi |= (b & 127) << (shift - 32);
    }
    if (b < 128) {
      state.pos = pos;
      state.lo = lo;
      state.hi = hi;
      return;
    }
  }
  throw new Error("invalid varint");
}

/** Reads an int64 (signed, or unsigned when `u`) varint as a bigint. */
export function readInt64(buf: Uint8Array, pos: number, end: number, u: boolean): bigint {
  const b = buf[pos];
  if (b !== undefined && b < 128 && pos < end) {
    state.pos = pos + 1;
    return BigInt(b);
  }
  readVarint64(buf, pos, end);
  return u ? protoInt64.uDec(state.lo, state.hi) as bigint : protoInt64.dec(state.lo, state.hi) as bigint;
}

/** Reads a zigzag sint64 varint as a bigint. */
export function readSint64(buf: Uint8Array, pos: number, end: number): bigint {
  readVarint64(buf, pos, end);
  const lo = state.lo;
  const hi = state.hi;
  const s = -(lo & 1);
  return protoInt64.dec(((lo >>> 1) | ((hi & 1) << 31)) ^ s, (hi >>> 1) ^ s) as bigint;
}

/** Reads a varint bool (any non-zero varint is true). */
export function readBool(buf: Uint8Array, pos: number, end: number): boolean {
  readVarint64(buf, pos, end);
  return state.lo !== 0 || state.hi !== 0;
}

function fixed32At(buf: Uint8Array, pos: number): number {
  return ((buf[pos] as number) | ((buf[pos + 1] as number) << 8) | ((buf[pos + 2] as number) << 16) | ((buf[pos + 3] as number) << 24));
}

/** Reads fixed64 (unsigned) / sfixed64 (signed) as a bigint. Caller checks bounds. */
export function readFixed64(buf: Uint8Array, pos: number, signed: boolean): bigint {
  const lo = fixed32At(buf, pos);
  const hi = fixed32At(buf, pos + 4);
  return signed ? protoInt64.dec(lo, hi) as bigint : protoInt64.uDec(lo, hi) as bigint;
}

/** Encodes an int32 as varint bytes (negative: 10 bytes), like varint32write. */
export function int32Bytes(v: number): Uint8Array {
  const out = new Uint8Array(10);
  const n = v >= 0 ? writeUint32(out, 0, v) : writeNegInt32(out, 0, v);
  return out.slice(0, n);
}
