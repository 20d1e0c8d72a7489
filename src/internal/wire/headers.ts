import type { Writer } from "../../codec/writer.js";
import { FRAME_HEADER_SIZE, MAX_METADATA_BYTES, PayloadCodec } from "./frame.js";
import { emptyMetadata, type Metadata, metadataBound, readMetadata, writeMetadata } from "./metadata.js";

/**
 * Starts a frame in `w`: writes the 10-byte header with a length placeholder.
 * Returns the frame's offset relative to `w.start` (stable even if the writer
 * grows while the body is encoded), to pass to endFrame() or abortFrame().
 */
export function beginFrame(w: Writer, type: number, flags: number, callId: number, reserve: number): number {
  w.ensure(FRAME_HEADER_SIZE + reserve);
  const buf = w.buf;
  const start = w.pos;
  buf[start + 4] = type;
  buf[start + 5] = flags;
  buf.writeUInt32BE(callId, start + 6);
  w.pos = start + FRAME_HEADER_SIZE;
  return start - w.start;
}

/** Patches the frame length. Returns the frame's length field (bytes after the length prefix). */
export function endFrame(w: Writer, rel: number): number {
  const start = w.start + rel;
  const len = w.pos - start - 4;
  w.buf.writeUInt32BE(len, start);
  return len;
}

/** Drops a frame that failed half-way. */
export function abortFrame(w: Writer, rel: number): void {
  w.pos = w.start + rel;
}

function putMetadata(w: Writer, md: Metadata | undefined): void {
  if (md === undefined) {
    w.ensure(2);
    w.buf.writeUInt16BE(0, w.pos);
    w.pos += 2;
    return;
  }
  w.ensure(2 + metadataBound(md));
  const at = w.pos;
  const end = writeMetadata(md, w.buf, at + 2, at + 2 + MAX_METADATA_BYTES);
  if (end < 0) throw new RangeError(`metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  w.buf.writeUInt16BE(end - at - 2, at);
  w.pos = end;
}

/**
 * REQUEST header after the frame header:
 *   u32 timeoutMs | u8 codec | u8 methodLen | method | u16 mdLen | metadata
 * `method` is pre-encoded ASCII ("pkg.Service/Method").
 */
export function putRequestHeader(
  w: Writer,
  timeoutMs: number,
  codec: PayloadCodec,
  method: Buffer,
  md: Metadata | undefined,
): void {
  w.ensure(6 + method.length);
  const buf = w.buf;
  let p = w.pos;
  buf.writeUInt32BE(timeoutMs, p);
  buf[p + 4] = codec;
  buf[p + 5] = method.length;
  p += 6;
  method.copy(buf, p);
  w.pos = p + method.length;
  putMetadata(w, md);
}

/**
 * RESPONSE header after the frame header:
 *   u8 status | u8 codec | u16 ret | u16 mdLen | metadata
 */
export function putResponseHeader(w: Writer, status: number, codec: PayloadCodec, ret: number, md: Metadata | undefined): void {
  w.ensure(4);
  const buf = w.buf;
  const p = w.pos;
  buf[p] = status;
  buf[p + 1] = codec;
  buf.writeUInt16BE(ret, p + 2);
  w.pos = p + 4;
  putMetadata(w, md);
}

/**
 * STREAM_END header after the frame header:
 *   u8 status | u16 ret | u16 mdLen | metadata
 */
export function putStreamEndHeader(w: Writer, status: number, ret: number, md: Metadata | undefined): void {
  w.ensure(3);
  w.buf[w.pos] = status;
  w.buf.writeUInt16BE(ret, w.pos + 1);
  w.pos += 3;
  putMetadata(w, md);
}

/** What readCallHeader() found; one object per connection, overwritten by each frame. */
export interface CallHeader {
  timeoutMs: number;
  codec: number;
  path: string;
  metadata: Metadata;
  /** Offset of the payload (REQUEST) or of the end of the header (STREAM_OPEN). */
  payloadStart: number;
}

/**
 * Reads the header shared by REQUEST and STREAM_OPEN into `out`:
 *   u32 timeoutMs | u8 codec | u8 methodLen | method | u16 mdLen | metadata
 * Returns why it is malformed (a protocol error), or undefined.
 */
export function readCallHeader(buf: Buffer, start: number, end: number, out: CallHeader, frame: string): string | undefined {
  if (end - start < 8) return `short ${frame} header`;
  out.timeoutMs = buf.readUInt32BE(start);
  out.codec = buf[start + 4]!;
  const mlen = buf[start + 5]!;
  let p = start + 6;
  if (mlen === 0) return `${frame} with an empty method name`;
  if (p + mlen + 2 > end) return `${frame} method past frame end`;
  out.path = buf.toString("latin1", p, p + mlen);
  p += mlen;
  const mdLen = buf.readUInt16BE(p);
  p += 2;
  if (p + mdLen > end) return `${frame} metadata past frame end`;
  try {
    out.metadata = mdLen === 0 ? emptyMetadata() : readMetadata(buf, p, p + mdLen);
  } catch (err) {
    return (err as Error).message;
  }
  out.payloadStart = p + mdLen;
  return undefined;
}

export function putBytes(w: Writer, bytes: Uint8Array): void {
  w.ensure(bytes.length);
  w.buf.set(bytes, w.pos);
  w.pos += bytes.length;
}

export { PayloadCodec };
