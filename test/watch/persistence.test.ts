import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import { crc32, createStore, oldestRevisionOf, type StoreOptions } from "../../src/watch/index.js";
import { take, tempDir } from "./helpers.js";

const isDataLoss = (e: unknown): boolean => GomsError.is(e) && e.code === Code.DataLoss;

function withDir(fn: (dir: string, open: (o?: StoreOptions) => ReturnType<typeof createStore>) => Promise<void> | void) {
  return async () => {
    const { dir, cleanup } = tempDir();
    try {
      await fn(dir, (o = {}) => createStore({ dir, fsync: false, leaseCheckIntervalMs: 0, ...o }));
    } finally {
      cleanup();
    }
  };
}

test("crc32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test(
  "restart keeps non-leased keys and continues revisions",
  withDir(async (_dir, open) => {
    let s = open({ fsync: true });
    assert.deepEqual(s.recovery, { snapshotRevision: 0, recordsReplayed: 0, truncatedBytes: 0, warnings: [] });
    s.put("a", "1");
    s.put("a", "2");
    s.hset("h", "f", "v");
    s.hincrby("h", "n", 3);
    s.put("gone", "x");
    s.delete("gone");
    const lease = s.grant(60_000);
    s.put("eph", "e", { lease });
    s.put("a", "3", { lease }); // a leased overwrite drops the durable "a"
    s.hset("h", "node", "n1", { lease });
    const last = s.revision;
    s.close();

    s = open();
    assert.equal(s.revision, last, "revision continues even though the last changes were leased");
    assert.equal(s.recovery?.recordsReplayed, 9);
    assert.equal(s.get("a"), undefined);
    assert.equal(s.get("eph"), undefined);
    assert.equal(s.get("gone"), undefined);
    assert.deepEqual({ ...s.hgetallText("h") }, { f: "v", n: "3" });
    const n = s.get("h\u0000n");
    assert.deepEqual([n?.createRevision, n?.modRevision, n?.version], [4, 4, 1]);
    assert.throws(() => s.keepAlive(lease), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
    // history does not survive: resuming from before the restart needs a resync
    assert.throws(() => s.watch({ startRevision: last }), (e: unknown) => oldestRevisionOf(e) === last + 1);
    const w = s.watch({ startRevision: last + 1 });
    assert.equal(s.put("b", "1"), last + 1);
    assert.equal((await take(w, 1))[0]?.revision, last + 1);
    s.close();
    s = open();
    assert.equal(s.revision, last + 1);
    s.close();
  }),
);

test(
  "compaction writes a snapshot, truncates the log and survives a crash before truncation",
  withDir((dir, open) => {
    let s = open();
    for (let i = 0; i < 20; i++) s.put(`k${String(i % 5)}`, String(i));
    const logBefore = readFileSync(join(dir, "log"));
    s.compact();
    assert.equal(statSync(join(dir, "log")).size, 8);
    s.put("after", "x");
    s.close();
    s = open();
    assert.equal(s.revision, 21);
    assert.equal(s.recovery?.snapshotRevision, 20);
    assert.equal(s.recovery?.recordsReplayed, 1);
    assert.equal(s.getText("k4"), "19");
    assert.equal(s.range().kvs.length, 6);
    s.close();
    // crash after the snapshot rename but before the log truncate: old records are skipped
    writeFileSync(join(dir, "log"), logBefore);
    s = open();
    assert.equal(s.revision, 20);
    assert.equal(s.recovery?.recordsReplayed, 0);
    assert.equal(s.getText("k4"), "19");
    s.close();
  }),
);

test(
  "automatic compaction when the log grows past compactLogBytes",
  withDir((dir, open) => {
    let s = open({ compactLogBytes: 500 });
    for (let i = 0; i < 50; i++) s.put(`key${String(i % 3)}`, "value-" + String(i));
    assert.ok(statSync(join(dir, "log")).size <= 500 + 100);
    s.close();
    s = open();
    assert.equal(s.revision, 50);
    assert.equal(s.getText("key1"), "value-49");
    s.close();
  }),
);

test(
  "a torn tail record is truncated and reported",
  withDir((dir, open) => {
    let s = open();
    s.put("a", "1");
    s.put("b", "2");
    s.close();
    const log = join(dir, "log");
    const good = statSync(log).size;
    // half of a real record, as left by a crash mid-write
    const other = tempDir();
    const t = createStore({ dir: other.dir, fsync: false, leaseCheckIntervalMs: 0 });
    t.put("c", "a longer value that was being written");
    t.close();
    const rec = readFileSync(join(other.dir, "log")).subarray(8);
    other.cleanup();
    appendFileSync(log, rec.subarray(0, rec.length - 5));
    s = open();
    assert.equal(s.recovery?.truncatedBytes, rec.length - 5);
    assert.match(s.recovery?.warnings[0] ?? "", /truncated torn tail/);
    assert.equal(statSync(log).size, good);
    assert.equal(s.revision, 2);
    s.put("c", "3");
    s.close();
    s = open();
    assert.deepEqual(s.recovery?.warnings, []);
    assert.equal(s.getText("c"), "3");
    s.close();
  }),
);

test(
  "a complete last record with a bad checksum is treated as torn",
  withDir((dir, open) => {
    let s = open();
    s.put("a", "1");
    s.put("b", "2");
    s.close();
    const log = join(dir, "log");
    const buf = readFileSync(log);
    buf[buf.length - 1] = (buf[buf.length - 1] ?? 0) ^ 0xff;
    writeFileSync(log, buf);
    s = open();
    assert.equal(s.revision, 1);
    assert.equal(s.get("b"), undefined);
    assert.ok((s.recovery?.truncatedBytes ?? 0) > 0);
    s.close();
  }),
);

test(
  "a short garbage tail (partial header) is truncated",
  withDir((dir, open) => {
    let s = open();
    s.put("a", "1");
    s.close();
    appendFileSync(join(dir, "log"), Buffer.from([0, 0, 0]));
    s = open();
    assert.equal(s.recovery?.truncatedBytes, 3);
    assert.equal(s.getText("a"), "1");
    s.close();
  }),
);

test(
  "corruption in the middle of the log is DataLoss",
  withDir((dir, open) => {
    const s = open();
    s.put("a", "first value");
    s.put("b", "second value");
    s.put("c", "third value");
    s.close();
    const log = join(dir, "log");
    const buf = readFileSync(log);
    buf[8 + 12 + 5] = (buf[8 + 12 + 5] ?? 0) ^ 0x01; // a payload byte of the first record
    writeFileSync(log, buf);
    assert.throws(() => open(), isDataLoss);
    // a corrupted length field is caught as well
    const buf2 = Buffer.from(buf);
    buf2[8 + 12 + 5] = (buf2[8 + 12 + 5] ?? 0) ^ 0x01;
    buf2[8] = 0x7f;
    writeFileSync(log, buf2);
    assert.throws(() => open(), isDataLoss);
  }),
);

test(
  "a bad snapshot or a bad log magic is DataLoss",
  withDir((dir, open) => {
    const s = open();
    s.put("a", "1");
    s.compact();
    s.close();
    const snap = join(dir, "snapshot");
    const good = readFileSync(snap);
    const bad = Buffer.from(good);
    bad[bad.length - 3] = (bad[bad.length - 3] ?? 0) ^ 0x10;
    writeFileSync(snap, bad);
    assert.throws(() => open(), isDataLoss);
    writeFileSync(snap, good.subarray(0, good.length - 1));
    assert.throws(() => open(), isDataLoss);
    copyFileSync(join(dir, "log"), join(dir, "log.bak"));
    writeFileSync(snap, good);
    writeFileSync(join(dir, "log"), "NOTALOG!");
    assert.throws(() => open(), isDataLoss);
    copyFileSync(join(dir, "log.bak"), join(dir, "log"));
    const ok = open();
    assert.equal(ok.getText("a"), "1");
    ok.close();
  }),
);

test(
  "a data directory can be open in one store at a time; a stale lock is taken over",
  withDir((dir, open) => {
    const s = open();
    assert.throws(() => open(), (e: unknown) => GomsError.is(e) && e.code === Code.FailedPrecondition);
    s.close();
    const t = open();
    t.close();
    writeFileSync(join(dir, "LOCK"), "999999999"); // no such process
    const u = open();
    u.put("k", "v");
    u.close();
  }),
);
