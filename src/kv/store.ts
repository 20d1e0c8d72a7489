import { Code, GomsError } from "../errors/index.js";
import { text, toBytes, type ValueInput } from "./bytes.js";
import { Durable } from "./durable.js";
import { checkHash, checkKey, checkPrev, checkRevision, counterValue, watchMatcher } from "./checks.js";
import { compactedError, invalidArgument } from "./errors.js";
import { hashKey, hashPrefix, topLevelName } from "./hash-keys.js";
import { History } from "./history.js";
import { Keyspace } from "./keyspace.js";
import { parseLease, requireLease, type LeaseId } from "./lease.js";
import { Leases, type LeaseStats } from "./leases.js";
import { checkKeySize, checkValueSize, resolveStoreLimits, type StoreLimits } from "./limits.js";
import { applyChange, type AppliedChange, type Change } from "./change.js";
import type {
  DeleteOptions,
  DeleteResult,
  HashSetOptions,
  KeyValue,
  PutOptions,
  RangeResult,
  RecoveryReport,
  StoreOptions,
  WatchOptions,
} from "./types.js";
import { storeClosedError, StoreWatch, type WatchSource } from "./store-watch.js";


/**
 * The in-memory KV store with revisions, leases, watches and optional
 * persistence. Create with `createStore()`. All commands are synchronous: when
 * one returns, the change is applied, logged (and fsync'd) and dispatched.
 */
export class WatchStore implements WatchSource {
  readonly history: History;
  readonly limits: StoreLimits;
  /** What opening the data directory found (undefined without `dir`). */
  readonly recovery: RecoveryReport | undefined;
  private rev: number;
  private readonly keys = new Keyspace();
  private readonly leases: Leases;
  private readonly watchers = new Set<StoreWatch>();
  private readonly durable: Durable | undefined;
  private readonly watchQueueSize: number;
  private readonly compactLogBytes: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Why the last automatic compaction failed (undefined after a success). */
  compactionError: unknown;

  constructor(options: StoreOptions = {}) {
    const historySize = options.historySize ?? 10_000;
    this.limits = resolveStoreLimits(options.limits);
    this.watchQueueSize = options.watchQueueSize ?? 1000;
    this.compactLogBytes = options.compactLogBytes ?? 64 * 1024 * 1024;
    checkRevision("historySize", historySize, 1);
    checkRevision("watchQueueSize", this.watchQueueSize, 1);
    const interval = options.leaseCheckIntervalMs ?? 250;
    if (!Number.isFinite(interval) || interval < 0) throw invalidArgument("leaseCheckIntervalMs must be >= 0");
    this.leases = new Leases(options.now ?? Date.now, this.limits);
    if (options.dir !== undefined) {
      const opened = Durable.open(options.dir, options.fsync ?? true);
      this.durable = opened.durable;
      this.recovery = opened.report;
      this.rev = opened.revision;
      for (const kv of opened.kvs.values()) this.keys.set(kv);
    } else {
      this.durable = undefined;
      this.recovery = undefined;
      this.rev = 0;
    }
    this.history = new History(historySize, this.rev, this.limits.historyBytes);
    if (interval > 0) {
      this.timer = setInterval(() => {
        try {
          this.expireLeases();
        } catch {
          // Retried on the next tick and surfaced by the next command.
        }
      }, interval);
      this.timer.unref();
    }
  }

  /** Revision of the latest change (0 for a new, empty store). */
  get revision(): number {
    return this.rev;
  }

  /** Oldest revision a watch can still resume from. */
  get oldestRevision(): number {
    return this.history.oldestAvailable;
  }

  // ---- keys -------------------------------------------------------------

  /** Sets `key`; returns the new revision. */
  put(key: string, value: ValueInput, options: PutOptions = {}): number {
    this.begin();
    checkKey(key);
    checkKeySize(key, this.limits);
    const bytes = toBytes(value);
    checkValueSize(bytes, this.limits);
    const cur = this.keys.get(key);
    checkPrev(key, cur, options.prevRevision);
    const lease = options.lease === undefined ? undefined : parseLease(options.lease);
    if (lease !== undefined && !this.leases.has(lease)) throw new GomsError(`lease ${lease} not found`, Code.NotFound);
    this.commit([{ type: "put", key, value: bytes, lease }]);
    return this.rev;
  }

  get(key: string): KeyValue | undefined {
    this.begin();
    return this.keys.get(key);
  }

  getText(key: string): string | undefined {
    const kv = this.get(key);
    return kv === undefined ? undefined : text(kv.value);
  }

  /** Keys starting with `prefix` ("" = all), sorted, with the revision they reflect. */
  range(prefix = ""): RangeResult {
    this.begin();
    return { kvs: this.keys.withPrefix(prefix), revision: this.rev };
  }

  /** Alias of `range`. */
  getPrefix(prefix: string): RangeResult {
    return this.range(prefix);
  }

  delete(key: string, options: DeleteOptions = {}): DeleteResult {
    this.begin();
    checkKey(key);
    const cur = this.keys.get(key);
    checkPrev(key, cur, options.prevRevision);
    return this.deleteKeys(cur === undefined ? [] : [key]);
  }

  deletePrefix(prefix: string): DeleteResult {
    this.begin();
    return this.deleteKeys(this.keys.keysWithPrefix(prefix));
  }

  // ---- hashes -----------------------------------------------------------

  /** Sets a hash field; an empty value deletes it (so a field is never stored empty). Returns the revision. */
  hset(key: string, field: string, value: ValueInput, options: HashSetOptions = {}): number {
    checkHash(key, field);
    const bytes = toBytes(value);
    if (bytes.length === 0) return this.hdel(key, field).revision;
    return this.put(hashKey(key, field), bytes, options.lease === undefined ? {} : { lease: options.lease });
  }

  hget(key: string, field: string): Uint8Array | undefined {
    checkHash(key, field);
    return this.get(hashKey(key, field))?.value;
  }

  hgetText(key: string, field: string): string | undefined {
    const v = this.hget(key, field);
    return v === undefined ? undefined : text(v);
  }

  /** All fields of the hash as an object (no prototype). */
  hgetall(key: string): Record<string, Uint8Array> {
    checkHash(key);
    const prefix = hashPrefix(key);
    const out: Record<string, Uint8Array> = Object.create(null) as Record<string, Uint8Array>;
    for (const kv of this.range(prefix).kvs) out[kv.key.slice(prefix.length)] = kv.value;
    return out;
  }

  hgetallText(key: string): Record<string, string> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [f, v] of Object.entries(this.hgetall(key))) out[f] = text(v);
    return out;
  }

  hdel(key: string, field: string): DeleteResult {
    checkHash(key, field);
    return this.delete(hashKey(key, field));
  }

  /** Deletes the plain key `key` and every field of hash `key`. */
  del(key: string): DeleteResult {
    this.begin();
    checkHash(key);
    const keys = this.keys.keysWithPrefix(hashPrefix(key));
    if (this.keys.get(key) !== undefined) keys.unshift(key);
    return this.deleteKeys(keys);
  }

  /**
   * Adds `n` to an integer field (missing = 0) and returns the new value.
   * Values are decimal strings within the safe integer range; a non-integer
   * field is InvalidArgument, overflow is OutOfRange. The field keeps its lease.
   */
  hincrby(key: string, field: string, n: number): number {
    this.begin();
    checkHash(key, field);
    if (!Number.isSafeInteger(n)) throw invalidArgument("hincrby increment must be a safe integer");
    const k = hashKey(key, field);
    checkKeySize(k, this.limits);
    const cur = this.keys.get(k);
    const base = cur === undefined ? 0 : counterValue(field, text(cur.value));
    const next = base + n;
    if (!Number.isSafeInteger(next)) throw new GomsError("hincrby result outside the safe integer range", Code.OutOfRange);
    this.commit([{ type: "put", key: k, value: toBytes(String(next)), lease: cur?.lease }]);
    return next;
  }

  /** Distinct top-level names (plain keys and hash names) starting with `p`, sorted. */
  keyPrefix(p: string): string[] {
    this.begin();
    const names = new Set<string>();
    for (const k of this.keys.keysWithPrefix(p)) names.add(topLevelName(k));
    return [...names].filter((n) => n.startsWith(p)).sort();
  }

  // ---- leases -----------------------------------------------------------

  /**
   * Creates a lease; keys attached to it are deleted when it expires or is
   * revoked. `owner` (the watch server passes the caller's connection) counts
   * it against `limits.maxLeasesPerClient`; every lease counts against `maxLeases`.
   */
  grant(ttlMs: number, options: { owner?: string } = {}): LeaseId {
    this.begin();
    return this.leases.grant(ttlMs, options.owner);
  }

  /** Lease counters (live leases, owners, expiry checks made). */
  get leaseStats(): LeaseStats {
    return this.leases.stats;
  }

  /** Refreshes the lease; returns the remaining ttl in ms. NotFound if expired or unknown. */
  keepAlive(id: LeaseId): number {
    this.begin();
    return this.leases.keepAlive(requireLease(id));
  }

  /** Remaining ms before the lease expires. NotFound if expired or unknown. */
  timeToLive(id: LeaseId): number {
    this.begin();
    return this.leases.timeToLive(requireLease(id));
  }

  /** Ends the lease and deletes its keys (one delete event each). NotFound if unknown. */
  revoke(id: LeaseId): DeleteResult {
    this.begin();
    return this.revokeLease(requireLease(id));
  }

  /** Revokes every lease whose deadline has passed; returns how many. */
  expireLeases(): number {
    this.checkOpen();
    const ids = this.leases.expired();
    for (let i = 0; i < ids.length; i++) {
      try {
        this.revokeLease(ids[i] as LeaseId);
      } catch (err) {
        // The log write failed: the rest stay leases, to be expired by the next check.
        for (const id of ids.slice(i)) this.leases.requeue(id);
        throw err;
      }
    }
    return ids.length;
  }

  // ---- watches ----------------------------------------------------------

  /**
   * Watches changes. With `startRevision`, first replays retained events with
   * revision >= startRevision, then follows live. Throws OutOfRange ("compacted")
   * when startRevision is older than the history; see `resumeRevisionOf`.
   */
  watch(options: WatchOptions = {}): StoreWatch {
    this.begin();
    const { startRevision } = options;
    const match = watchMatcher(options);
    if (startRevision !== undefined) {
      checkRevision("startRevision", startRevision, 1);
      if (startRevision < this.history.oldestAvailable) throw compactedError(startRevision, this.history.oldestAvailable);
    }
    const queueSize = options.queueSize ?? this.watchQueueSize;
    checkRevision("queueSize", queueSize, 1);
    const w = new StoreWatch(this, match, startRevision, queueSize);
    this.watchers.add(w);
    return w;
  }

  /** @internal Called by a watcher that stops or fails. */
  detach(w: StoreWatch): void {
    this.watchers.delete(w);
  }

  /** Number of active watchers. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Writes a snapshot and truncates the log (no-op without `dir`). */
  compact(): void {
    this.begin();
    this.durable?.compact(this.rev, this.persistentKvs());
  }

  /** Stops the lease timer, ends watchers with Unavailable, closes files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of [...this.watchers]) w.fail(storeClosedError());
    this.watchers.clear();
    this.durable?.close();
  }

  // ---- internals ----------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new GomsError("watch store closed", Code.Unavailable);
  }

  /** Every command starts here: the store must be open and expired leases reaped. */
  private begin(): void {
    this.checkOpen();
    if (this.leases.size > 0) this.expireLeases();
  }

  private revokeLease(id: LeaseId): DeleteResult {
    const keys = this.leases.keysOf(id);
    const res = this.deleteKeys(keys);
    this.leases.remove(id);
    return res;
  }

  private deleteKeys(keys: readonly string[]): DeleteResult {
    if (keys.length > 0) this.commit(keys.map((key) => ({ type: "delete", key })));
    return { deleted: keys.length, revision: this.rev };
  }

  private *persistentKvs(): Generator<KeyValue> {
    for (const kv of this.keys.values()) if (kv.lease === undefined) yield kv;
  }

  /**
   * Applies changes to distinct keys, one revision each: log first (so a
   * failed write changes nothing), then memory, history and watchers.
   */
  private commit(changes: readonly Change[]): void {
    const next: AppliedChange[] = [];
    for (const c of changes) next.push(applyChange(c, this.keys.get(c.key), this.rev + next.length + 1));
    this.durable?.append(next.map((n) => n.record));
    for (const { kv, prev, ev } of next) {
      if (prev?.lease !== undefined && prev.lease !== kv?.lease) this.leases.detach(prev.lease, ev.key);
      if (kv === undefined) this.keys.delete(ev.key);
      else {
        this.keys.set(kv);
        if (kv.lease !== undefined) this.leases.attach(kv.lease, kv.key);
      }
      this.rev = ev.revision;
      this.history.push(ev);
      for (const w of [...this.watchers]) w.offer(ev);
    }
    if (this.durable !== undefined && this.durable.logBytes > this.compactLogBytes) {
      try {
        this.durable.compact(this.rev, this.persistentKvs());
        this.compactionError = undefined;
      } catch (err) {
        // The change is already durable in the log; compaction is retried after the next change.
        this.compactionError = err;
      }
    }
  }
}

/** Creates an independent store (no global state). Call `close()` when done. */
export function createStore(options: StoreOptions = {}): WatchStore {
  return new WatchStore(options);
}
