import { isUtf8 } from "node:buffer";
import { MAX_METADATA_BYTES } from "./frame.js";

/**
 * Metadata block: repeated { u8 keyLen, key (ASCII), u16 valueLen, value (UTF-8) }.
 * Keys are 1..255 bytes of [a-z0-9_.-] (an upper-case key is malformed); values
 * are valid UTF-8. readMetadata refuses anything else: a protocol error.
 */
export type Metadata = Record<string, string>;

const EMPTY: Metadata = Object.freeze({}) as Metadata;
const KEY_RE = /^[a-z0-9_.-]{1,255}$/;

export function isValidMetadataKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** Writes a metadata block (without its u16 length prefix) at pos; returns the new pos or -1 if too large. */
export function writeMetadata(md: Metadata, buf: Buffer, pos: number, limit: number): number {
  for (const key in md) {
    const value = md[key]!;
    if (!isValidMetadataKey(key)) throw new TypeError(`invalid metadata key ${JSON.stringify(key)}`);
    if (pos + 3 + key.length > limit) return -1;
    buf[pos] = key.length;
    buf.write(key, pos + 1, "latin1");
    pos += 1 + key.length;
    const vlen = Buffer.byteLength(value, "utf8");
    if (pos + 2 + vlen > limit) return -1;
    buf.writeUInt16BE(vlen, pos);
    buf.write(value, pos + 2, "utf8");
    pos += 2 + vlen;
  }
  return pos;
}

/** Upper bound of the encoded size of md (for ensure()). */
export function metadataBound(md: Metadata): number {
  let n = 0;
  for (const key in md) n += 3 + key.length + md[key]!.length * 3;
  return Math.min(n, MAX_METADATA_BYTES);
}

/** Reads a metadata block buf[start, end). Throws on malformed input. */
export function readMetadata(buf: Buffer, start: number, end: number): Metadata {
  if (start === end) return EMPTY;
  const md: Metadata = {};
  let pos = start;
  while (pos < end) {
    const klen = buf[pos]!;
    if (klen === 0 || pos + 1 + klen + 2 > end) throw new RangeError("malformed metadata block");
    const key = buf.toString("latin1", pos + 1, pos + 1 + klen);
    if (!isValidMetadataKey(key)) throw new RangeError(`invalid metadata key ${JSON.stringify(key)}`);
    pos += 1 + klen;
    const vlen = buf.readUInt16BE(pos);
    pos += 2;
    if (pos + vlen > end) throw new RangeError("malformed metadata block");
    if (vlen > 0 && !isUtf8(buf.subarray(pos, pos + vlen))) throw new RangeError(`metadata value of ${JSON.stringify(key)} is not valid UTF-8`);
    const value = buf.toString("utf8", pos, pos + vlen);
    // "__proto__" is a legal key: assigning it would hit the prototype setter and drop it.
    if (key === "__proto__") Object.defineProperty(md, key, { value, enumerable: true, writable: true, configurable: true });
    else md[key] = value;
    pos += vlen;
  }
  return md;
}

export function emptyMetadata(): Metadata {
  return EMPTY;
}
