import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { BinReader, BinWriter } from "../internal/util/binary.js";
import { crc32 } from "../internal/util/crc32.js";
import { dataLoss } from "./errors.js";

/**
 * Snapshot layout (big-endian):
 *
 *   MAGIC "GOMSSNP1" | bodyLen:u64 | crc32(body):u32 | body
 *   body := revision:u64 count:u32 entry*
 *   entry := key:str value:bytes createRev:u64 modRev:u64 version:u64
 */
export const SNAPSHOT_MAGIC = Buffer.from("GOMSSNP1", "latin1");

export interface PersistedKv {
  readonly key: string;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

export interface Snapshot {
  readonly revision: number;
  readonly kvs: PersistedKv[];
}

export function encodeSnapshot(revision: number, kvs: Iterable<PersistedKv>): Buffer {
  const body = new BinWriter();
  body.u64(revision);
  const countAt = body.pos;
  body.u32(0);
  let count = 0;
  for (const kv of kvs) {
    body.str(kv.key);
    body.bytes(kv.value);
    body.u64(kv.createRevision);
    body.u64(kv.modRevision);
    body.u64(kv.version);
    count++;
  }
  body.patchU32(countAt, count);
  const b = body.result();
  const out = new BinWriter();
  out.raw(SNAPSHOT_MAGIC);
  out.u64(b.length);
  out.u32(crc32(b));
  out.raw(b);
  return Buffer.from(out.result());
}

/** Decodes a snapshot file; any inconsistency is DataLoss. */
export function decodeSnapshot(buf: Buffer, file: string): Snapshot {
  const bad = (why: string, cause?: unknown): never => {
    throw dataLoss(`corrupt snapshot ${file}: ${why}`, cause);
  };
  const head = SNAPSHOT_MAGIC.length + 12;
  if (buf.length < head || !buf.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) bad("bad magic or header");
  const len = Number(buf.readBigUInt64BE(SNAPSHOT_MAGIC.length));
  if (head + len !== buf.length) bad(`length ${String(len)} does not match file size`);
  if (crc32(buf, head) !== buf.readUInt32BE(SNAPSHOT_MAGIC.length + 8)) bad("checksum mismatch");
  try {
    const r = new BinReader(buf, head);
    const revision = r.u64();
    const count = r.u32();
    const kvs: PersistedKv[] = [];
    for (let i = 0; i < count; i++) {
      const key = r.str();
      const value = r.bytes();
      const createRevision = r.u64();
      const modRevision = r.u64();
      const version = r.u64();
      kvs.push({ key, value, createRevision, modRevision, version });
    }
    if (r.remaining !== 0) bad("trailing bytes");
    return { revision, kvs };
  } catch (err) {
    return bad("undecodable body", err);
  }
}

export function readSnapshot(file: string): Snapshot | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return decodeSnapshot(buf, file);
}

/** Writes `data` to `file` atomically: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, dir: string, data: Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
