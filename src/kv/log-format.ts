import { BinReader, BinWriter } from "../internal/util/binary.js";
import { crc32 } from "../internal/util/crc32.js";

/**
 * Append-only log layout (all integers big-endian):
 *
 *   file   := MAGIC record*
 *   MAGIC  := "GOMSLOG1" (8 bytes)
 *   record := len:u32 | hcrc:u32 | pcrc:u32 | payload[len]
 *             hcrc = crc32(len bytes), pcrc = crc32(payload)
 *   payload:= 0x01 rev:u64 key:str value:bytes createRev:u64 version:u64   (put)
 *            | 0x02 rev:u64 key:str                                        (delete)
 *   str/bytes := n:u32 data[n]
 */
export const LOG_MAGIC = Buffer.from("GOMSLOG1", "latin1");
export const RECORD_HEADER = 12;
/** Larger payloads are treated as corrupt lengths. */
export const MAX_RECORD = 256 * 1024 * 1024;

export type LogRecord =
  | {
      readonly type: "put";
      readonly revision: number;
      readonly key: string;
      readonly value: Uint8Array;
      readonly createRevision: number;
      readonly version: number;
    }
  | { readonly type: "delete"; readonly revision: number; readonly key: string };

const PUT = 1;
const DEL = 2;

/** Appends one framed record to `w`. */
export function encodeRecord(w: BinWriter, r: LogRecord): void {
  const start = w.pos;
  w.u32(0);
  w.u32(0);
  w.u32(0);
  const body = w.pos;
  if (r.type === "put") {
    w.u8(PUT);
    w.u64(r.revision);
    w.str(r.key);
    w.bytes(r.value);
    w.u64(r.createRevision);
    w.u64(r.version);
  } else {
    w.u8(DEL);
    w.u64(r.revision);
    w.str(r.key);
  }
  const buf = w.result();
  const len = w.pos - body;
  w.patchU32(start, len);
  w.patchU32(start + 4, crc32(buf, start, start + 4));
  w.patchU32(start + 8, crc32(buf, body, body + len));
}

function decodePayload(buf: Buffer, start: number, end: number): LogRecord {
  const r = new BinReader(buf, start, end);
  const type = r.u8();
  const revision = r.u64();
  const key = r.str();
  let rec: LogRecord;
  if (type === PUT) {
    const value = r.bytes();
    const createRevision = r.u64();
    const version = r.u64();
    rec = { type: "put", revision, key, value, createRevision, version };
  } else if (type === DEL) {
    rec = { type: "delete", revision, key };
  } else {
    throw new RangeError(`unknown record type ${String(type)}`);
  }
  if (r.remaining !== 0) throw new RangeError("trailing bytes in record");
  return rec;
}

export type FrameCheck = { ok: true; end: number; payloadStart: number } | { ok: false };

/** Checks the frame at `off`: header crc, bounds and payload crc. */
export function checkFrame(buf: Buffer, off: number): FrameCheck {
  if (buf.length - off < RECORD_HEADER) return { ok: false };
  const len = buf.readUInt32BE(off);
  if (crc32(buf, off, off + 4) !== buf.readUInt32BE(off + 4)) return { ok: false };
  if (len > MAX_RECORD) return { ok: false };
  const payloadStart = off + RECORD_HEADER;
  const end = payloadStart + len;
  if (end > buf.length) return { ok: false };
  if (crc32(buf, payloadStart, end) !== buf.readUInt32BE(off + 8)) return { ok: false };
  return { ok: true, end, payloadStart };
}

export type ScanResult =
  | { readonly kind: "ok"; readonly records: LogRecord[]; readonly validEnd: number }
  | { readonly kind: "corrupt"; readonly offset: number; readonly reason: string };

/**
 * Parses the records after the magic. A bad frame followed by no valid frame
 * anywhere later is a torn tail (`validEnd` < length: truncate there). A bad
 * frame with a valid frame after it, or a frame whose crc matches but whose
 * payload does not decode, is corruption.
 */
export function scanLog(buf: Buffer): ScanResult {
  const records: LogRecord[] = [];
  let off = LOG_MAGIC.length;
  while (off < buf.length) {
    const f = checkFrame(buf, off);
    if (!f.ok) {
      for (let p = off + 1; p + RECORD_HEADER <= buf.length; p++) {
        if (checkFrame(buf, p).ok) return { kind: "corrupt", offset: off, reason: "bad record followed by valid records" };
      }
      return { kind: "ok", records, validEnd: off };
    }
    try {
      records.push(decodePayload(buf, f.payloadStart, f.end));
    } catch (err) {
      return { kind: "corrupt", offset: off, reason: `undecodable record: ${err instanceof Error ? err.message : String(err)}` };
    }
    off = f.end;
  }
  return { kind: "ok", records, validEnd: off };
}
