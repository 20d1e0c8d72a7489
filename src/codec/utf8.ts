import { isUtf8 } from "node:buffer";

/**
 * UTF-8 helpers. Short strings are converted with plain JS loops (cheaper
 * than crossing into C++ for a few dozen bytes); long ones use the native
 * encoder/decoder. Output is identical to TextEncoder/TextDecoder, which
 * @bufbuild/protobuf uses: lone surrogates encode as U+FFFD, and invalid input
 * is decoded by TextDecoder itself (fatal for fields with UTF-8 validation).
 */

/** Strings up to this many UTF-16 units take the JS paths. */
export const SHORT_STRING = 64;

/**
 * Writes `s` as a length-prefixed UTF-8 string at `pos`; returns the new
 * position. The caller guarantees `3 * s.length + 5` bytes of room.
 */
export function writeString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n <= 42) {
    // At most 126 bytes: the length prefix is one byte, patched afterwards.
    const start = pos + 1;
    const end = utf8Write(buf, start, s);
    buf[pos] = end - start;
    return end;
  }
  const len = n <= SHORT_STRING ? utf8Length(s) : Buffer.byteLength(s, "utf8");
  let p = pos;
  let v = len;
  while (v > 127) {
    buf[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[p++] = v;
  if (n <= SHORT_STRING) return utf8Write(buf, p, s);
  return p + buf.write(s, p, len, "utf8");
}

/** Number of UTF-8 bytes of `s` (lone surrogates count as U+FFFD). */
export function utf8Length(s: string): number {
  let len = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++;
      len += 4;
    } else len += 3;
  }
  return len;
}

/** Encodes `s` at `pos` without a prefix; returns the new position. */
export function utf8Write(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0, n = s.length; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 63);
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 63);
      buf[pos++] = 0x80 | ((c >> 6) & 63);
      buf[pos++] = 0x80 | (c & 63);
    } else {
      if ((c & 0xf800) === 0xd800) c = 0xfffd; // lone surrogate, like TextEncoder
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 63);
      buf[pos++] = 0x80 | (c & 63);
    }
  }
  return pos;
}

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (this: Uint8Array, s: number, e: number) => string }).utf8Slice;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, s: number, e: number) => string }).latin1Slice;

/** Decodes `buf[start, end)`; throws on invalid UTF-8 when `strict`, else substitutes U+FFFD. */
export function readString(buf: Uint8Array, start: number, end: number, strict: boolean): string {
  if (end - start <= SHORT_STRING) {
    const s = utf8ReadShort(buf, start, end);
    if (s !== undefined) return s;
  } else if (isUtf8(buf.subarray(start, end))) {
    return utf8Slice.call(buf, start, end);
  }
  return (strict ? fatal : lenient).decode(buf.subarray(start, end));
}

/** UTF-16LE scratch for utf8ReadShort: SHORT_STRING bytes of UTF-8 are at most SHORT_STRING UTF-16 units. */
const scratch = Buffer.allocUnsafeSlow(2 * SHORT_STRING); // own ArrayBuffer: offset 0, so the Uint16Array view is aligned
/** The same memory as 16-bit units: one store per unit where the platform is little-endian like UTF-16LE. */
const units16 = new Uint16Array(scratch.buffer, scratch.byteOffset, SHORT_STRING);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ucs2Slice = (Buffer.prototype as unknown as { ucs2Slice: (this: Uint8Array, s: number, e: number) => string }).ucs2Slice;

/**
 * JS decoder for short, valid UTF-8; returns undefined for any invalid sequence.
 * Code units go into a UTF-16 scratch buffer that one native ucs2Slice turns
 * into the string: for CJK text about 1.5x faster than String.fromCharCode
 * over an array, and faster than the native UTF-8 decoder at this length.
 */
function utf8ReadShort(buf: Uint8Array, pos: number, end: number): string | undefined {
  // ASCII fast path: the common case for keys and names; the native slice is 3x faster than the loop.
  let i = pos;
  while (i < end && (buf[i] as number) < 0x80) i++;
  if (i === end) return latin1Slice.call(buf, pos, end);
  if (!LE) return undefined; // big-endian hosts take TextDecoder
  const out = units16;
  let o = 0;
  while (pos < end) {
    const b = buf[pos++] as number;
    let c: number;
    if (b < 0x80) {
      c = b;
    } else if (b < 0xc2) {
      return undefined;
    } else if (b < 0xe0) {
      if (pos >= end) return undefined;
      const b1 = buf[pos++] as number;
      if ((b1 & 0xc0) !== 0x80) return undefined;
      c = ((b & 0x1f) << 6) | (b1 & 63);
    } else if (b < 0xf0) {
      if (pos + 1 >= end) return undefined;
      const b1 = buf[pos] as number;
      const b2 = buf[pos + 1] as number;
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) return undefined;
      c = ((b & 0x0f) << 12) | ((b1 & 63) << 6) | (b2 & 63);
      if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) return undefined;
      pos += 2;
    } else if (b < 0xf5) {
      if (pos + 2 >= end) return undefined;
      const b1 = buf[pos] as number;
      const b2 = buf[pos + 1] as number;
      const b3 = buf[pos + 2] as number;
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return undefined;
      c = ((b & 0x07) << 18) | ((b1 & 63) << 12) | ((b2 & 63) << 6) | (b3 & 63);
      if (c < 0x10000 || c > 0x10ffff) return undefined;
      c -= 0x10000;
      out[o++] = 0xd800 | (c >> 10);
      c = 0xdc00 | (c & 0x3ff);
      pos += 3;
    } else {
      return undefined;
    }
    out[o++] = c;
  }
  return ucs2Slice.call(scratch, 0, 2 * o);
}
