import type { LeaseId } from "./lease.js";
import type { StoreLimits } from "./limits.js";

/**
 * Public data types of the watch storage engine.
 *
 * Revisions are plain `number`s (safe integers). One revision is consumed per
 * change event, so 2^53 - 1 revisions is far more than any registry can use
 * (a million changes per second would take ~285 years).
 */

/** One key as stored. `value` is shared with the store: treat it as read-only. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the put that created this incarnation of the key. */
  readonly createRevision: number;
  /** Revision of the latest change to this key. */
  readonly modRevision: number;
  /** Number of puts since the key was created (1 after the first put). */
  readonly version: number;
  /** Lease the key is attached to, if any. */
  readonly lease?: LeaseId;
}

export type WatchEventType = "put" | "delete";

/** One change. Every event has its own revision; revisions are consecutive. */
export interface WatchEvent {
  readonly type: WatchEventType;
  readonly key: string;
  readonly revision: number;
  /** The new value (put only). */
  readonly value?: Uint8Array;
  /** The value before this change, when the key existed. */
  readonly prevValue?: Uint8Array;
  /** Create revision of the key after a put (absent for delete). */
  readonly createRevision?: number;
  /** Version of the key after a put (absent for delete). */
  readonly version?: number;
  /** Lease of the key after a put (absent when none). */
  readonly lease?: LeaseId;
}

/** A consistent view of a range: the keys and the store revision they reflect. */
export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  /** Store revision at the time of the read; watch from `revision + 1` to follow on. */
  readonly revision: number;
}

export interface DeleteResult {
  /** Number of keys removed. */
  readonly deleted: number;
  /** Store revision after the call (unchanged when nothing was deleted). */
  readonly revision: number;
}

export interface PutOptions {
  /** Attach the key to this lease (NotFound if the lease does not exist). */
  readonly lease?: LeaseId;
  /** Compare-and-set: the key's modRevision must equal this; 0 means "must not exist". */
  readonly prevRevision?: number;
}

export interface DeleteOptions {
  /** Compare-and-delete: the key's modRevision must equal this. */
  readonly prevRevision?: number;
}

export interface HashSetOptions {
  readonly lease?: LeaseId;
}

export interface WatchOptions {
  /** Only this exact key. */
  readonly key?: string;
  /** Only keys starting with this prefix ("" = everything). */
  readonly prefix?: string;
  /** Only the fields of this hash (sugar for prefix `hash + "\u0000"`). */
  readonly hash?: string;
  /**
   * Replay every retained event with revision >= startRevision, then follow live.
   * Omitted: live events only, starting after the current revision.
   */
  readonly startRevision?: number;
  /** Live queue bound for this watcher (defaults to the store's `watchQueueSize`). */
  readonly queueSize?: number;
}

/** What happened when a data directory was opened. */
export interface RecoveryReport {
  /** Revision stored in the snapshot (0 when there was none). */
  readonly snapshotRevision: number;
  /** Log records applied on top of the snapshot. */
  readonly recordsReplayed: number;
  /** Bytes cut from the end of the log (a torn final write). */
  readonly truncatedBytes: number;
  /** Human-readable notes, e.g. about a truncated tail. */
  readonly warnings: readonly string[];
}

export interface StoreOptions {
  /** Clock in milliseconds (default `Date.now`). Used for lease deadlines. */
  readonly now?: () => number;
  /**
   * Period of the internal lease-expiry timer in ms (default 250). The timer is
   * `unref()`ed and cleared by `close()`. 0 disables it; leases are then reaped by
   * `expireLeases()` and lazily at the start of every store call.
   */
  readonly leaseCheckIntervalMs?: number;
  /** Events retained for resume (default 10_000); `limits.historyBytes` bounds their bytes too. */
  readonly historySize?: number;
  /** Key/value sizes, history bytes and lease counts (see StoreLimits for the defaults). */
  readonly limits?: Partial<StoreLimits>;
  /** Default live queue bound per watcher (default 1000). */
  readonly watchQueueSize?: number;
  /** Persist non-leased keys in this directory (snapshot + append-only log). */
  readonly dir?: string;
  /** fsync the log before acknowledging each mutation (default true). */
  readonly fsync?: boolean;
  /** Compact (write snapshot, truncate log) when the log exceeds this many bytes (default 64 MiB). */
  readonly compactLogBytes?: number;
}
