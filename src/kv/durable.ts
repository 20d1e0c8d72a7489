import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Code, GomsError } from "../errors/index.js";
import { BinWriter } from "../internal/util/binary.js";
import { lockDir } from "./dir-lock.js";
import { dataLoss } from "./errors.js";
import { encodeRecord, LOG_MAGIC, scanLog, type LogRecord } from "./log-format.js";
import { encodeSnapshot, fsyncDir, readSnapshot, writeFileAtomic, type PersistedKv } from "./snapshot.js";
import type { RecoveryReport } from "./types.js";

export const SNAPSHOT_FILE = "snapshot";
export const LOG_FILE = "log";

export interface OpenedDurable {
  readonly durable: Durable;
  readonly revision: number;
  readonly kvs: Map<string, PersistedKv>;
  readonly report: RecoveryReport;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** Snapshot + append-only log in one directory. All calls are synchronous. */
export class Durable {
  private size: number;
  private broken: unknown;

  private constructor(
    private readonly dir: string,
    private fd: number | undefined,
    size: number,
    private readonly fsync: boolean,
    private readonly unlock: () => void,
  ) {
    this.size = size;
  }

  /** Loads snapshot then log; truncates a torn tail; throws DataLoss on corruption. */
  static open(dir: string, fsync: boolean): OpenedDurable {
    mkdirSync(dir, { recursive: true });
    const unlock = lockDir(dir);
    try {
      return Durable.load(dir, fsync, unlock);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  private static load(dir: string, fsync: boolean, unlock: () => void): OpenedDurable {
    rmSync(join(dir, `${SNAPSHOT_FILE}.tmp`), { force: true });
    const snapshotFile = join(dir, SNAPSHOT_FILE);
    const logFile = join(dir, LOG_FILE);
    const warnings: string[] = [];
    const snap = readSnapshot(snapshotFile);
    const kvs = new Map<string, PersistedKv>();
    const snapshotRevision = snap?.revision ?? 0;
    for (const kv of snap?.kvs ?? []) kvs.set(kv.key, kv);
    let revision = snapshotRevision;
    let replayed = 0;
    let truncatedBytes = 0;

    let buf = existsSync(logFile) ? readFileSync(logFile) : Buffer.alloc(0);
    if (buf.length < LOG_MAGIC.length) {
      if (!LOG_MAGIC.subarray(0, buf.length).equals(buf)) throw dataLoss(`corrupt log ${logFile}: bad magic`);
      if (buf.length > 0) warnings.push(`log ${logFile}: incomplete header rewritten`);
      buf = Buffer.from(LOG_MAGIC);
      writeFileAtomic(logFile, dir, buf);
    } else if (!buf.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) {
      throw dataLoss(`corrupt log ${logFile}: bad magic`);
    }

    const scan = scanLog(buf);
    if (scan.kind === "corrupt") throw dataLoss(`corrupt log ${logFile} at offset ${String(scan.offset)}: ${scan.reason}`);
    for (const rec of scan.records) {
      if (rec.revision <= revision) {
        if (rec.revision <= snapshotRevision) continue; // written before the last compaction finished
        throw dataLoss(`corrupt log ${logFile}: revision ${String(rec.revision)} after ${String(revision)}`);
      }
      applyRecord(kvs, rec);
      revision = rec.revision;
      replayed++;
    }

    const fd = openSync(logFile, "a");
    if (scan.validEnd < buf.length) {
      truncatedBytes = buf.length - scan.validEnd;
      try {
        ftruncateSync(fd, scan.validEnd);
        fsyncSync(fd);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      warnings.push(`log ${logFile}: truncated torn tail of ${String(truncatedBytes)} bytes at offset ${String(scan.validEnd)}`);
    }
    const durable = new Durable(dir, fd, scan.validEnd, fsync, unlock);
    return { durable, revision, kvs, report: { snapshotRevision, recordsReplayed: replayed, truncatedBytes, warnings } };
  }

  /** Current log size in bytes. */
  get logBytes(): number {
    return this.size;
  }

  /** Appends records in one write (and one fsync). On failure the log is rolled back. */
  append(records: readonly LogRecord[]): void {
    if (records.length === 0) return;
    const fd = this.usable();
    const w = new BinWriter();
    for (const r of records) encodeRecord(w, r);
    const data = w.result();
    try {
      writeAll(fd, data);
      if (this.fsync) fsyncSync(fd);
    } catch (err) {
      try {
        ftruncateSync(fd, this.size);
      } catch (err2) {
        this.broken = err2;
      }
      throw new GomsError("watch store: log write failed", Code.Unavailable, { cause: err });
    }
    this.size += data.length;
  }

  /** Writes a snapshot of `kvs` at `revision` atomically, then empties the log. */
  compact(revision: number, kvs: Iterable<PersistedKv>): void {
    const fd = this.usable();
    writeFileAtomic(join(this.dir, SNAPSHOT_FILE), this.dir, encodeSnapshot(revision, kvs));
    try {
      ftruncateSync(fd, LOG_MAGIC.length);
      fsyncSync(fd);
      fsyncDir(this.dir);
    } catch (err) {
      // Records left in the log are at or below the snapshot revision and skipped at load.
      this.broken = err;
      throw new GomsError("watch store: log truncation failed", Code.Unavailable, { cause: err });
    }
    this.size = LOG_MAGIC.length;
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } finally {
      this.unlock();
    }
  }

  private usable(): number {
    if (this.fd === undefined) throw new GomsError("watch store closed", Code.Unavailable);
    if (this.broken !== undefined) {
      throw new GomsError("watch store: log unusable after a failed write; reopen the store", Code.Unavailable, { cause: this.broken });
    }
    return this.fd;
  }
}

export function applyRecord(kvs: Map<string, PersistedKv>, rec: LogRecord): void {
  if (rec.type === "put") {
    kvs.set(rec.key, {
      key: rec.key,
      value: rec.value,
      createRevision: rec.createRevision,
      modRevision: rec.revision,
      version: rec.version,
    });
  } else {
    kvs.delete(rec.key);
  }
}
