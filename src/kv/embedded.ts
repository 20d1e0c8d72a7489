/**
 * KvBackend (kind "embedded") directly over an in-process store. Watch
 * semantics match the watch client: afterRevision is exclusive, a watcher that
 * falls behind resumes from history transparently, and a watch that cannot be
 * resumed ends with GomsError(OutOfRange).
 */
import { Code, GomsError } from "../errors/index.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import type { KvBackend, KvEntry, KvEvent, KvWatch } from "./backend.js";
import { aheadError, resumeRevisionOf } from "./errors.js";
import type { LeaseId } from "./lease.js";
import { createStore, type WatchStore } from "./store.js";
import type { KeyValue, WatchEvent } from "./types.js";
import type { StoreWatch } from "./store-watch.js";

function entryOf(kv: KeyValue): KvEntry {
  return { key: kv.key, value: kv.value, modRevision: kv.modRevision, lease: kv.lease ?? "" };
}

function kvEventOf(ev: WatchEvent): KvEvent {
  return { type: ev.type, key: ev.key, value: ev.type === "put" ? ev.value : undefined, revision: ev.revision };
}

/**
 * A KvWatch over a store watcher. Events are pulled one at a time when the
 * consumer has taken the previous one, so nothing is buffered here beyond the
 * store watcher's own bounded queue. A store watcher that fell behind is
 * replaced by one resuming from history at the first missed revision.
 */
function embeddedWatch(
  store: WatchStore,
  prefix: string,
  afterRevision: number | undefined,
  onEnd: (w: AsyncQueue<KvEvent>) => void,
): AsyncQueue<KvEvent> {
  let inner: StoreWatch | undefined;
  let pulling = false;
  const out: AsyncQueue<KvEvent> = new AsyncQueue<KvEvent>({
    onClose: () => {
      inner?.stop();
      onEnd(out);
    },
    onDrain: () => void pull(),
  });

  async function pull(): Promise<void> {
    if (pulling) return;
    pulling = true;
    try {
      while (!out.closed && inner !== undefined) {
        try {
          const r = await inner.next();
          if (r.done === true) out.end();
          else out.push(kvEventOf(r.value));
          return;
        } catch (e) {
          const err = GomsError.from(e);
          const resume = resumeRevisionOf(err);
          if (err.code !== Code.ResourceExhausted || resume === undefined) {
            out.fail(err);
            return;
          }
          // Fell behind the live queue: pick up again from history.
          if (!out.closed) inner = store.watch({ prefix, startRevision: resume });
        }
      }
    } catch (e) {
      out.fail(GomsError.from(e));
    } finally {
      pulling = false;
    }
  }

  try {
    if (afterRevision !== undefined && (!Number.isSafeInteger(afterRevision) || afterRevision < 0)) {
      throw new GomsError("afterRevision must be a non-negative integer", Code.InvalidArgument);
    }
    const from = afterRevision === undefined ? undefined : afterRevision + 1;
    if (from !== undefined && from > store.revision + 1) throw aheadError(from, store.revision, store.oldestRevision);
    inner = store.watch(from === undefined ? { prefix } : { prefix, startRevision: from });
  } catch (err) {
    out.fail(GomsError.from(err));
  }
  return out;
}

export interface EmbeddedKvOptions {
  /** close() also closes the store. Default false: the caller owns it. */
  closeStore?: boolean;
}

export class EmbeddedKv implements KvBackend {
  readonly kind = "embedded";
  private readonly watches = new Set<AsyncQueue<KvEvent>>();

  constructor(
    readonly store: WatchStore,
    private readonly options: EmbeddedKvOptions = {},
  ) {}

  async put(key: string, value: Uint8Array, options: { lease?: LeaseId; prevRevision?: number } = {}): Promise<number> {
    const { lease, prevRevision } = options;
    return this.store.put(key, value, { ...(lease === undefined ? {} : { lease }), ...(prevRevision === undefined ? {} : { prevRevision }) });
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const kv = this.store.get(key);
    return kv === undefined ? undefined : entryOf(kv);
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    const r = this.store.range(prefix);
    return { entries: r.kvs.map(entryOf), revision: r.revision };
  }

  async delete(key: string, options: { prevRevision?: number } = {}): Promise<number> {
    return this.store.delete(key, options.prevRevision === undefined ? {} : { prevRevision: options.prevRevision }).revision;
  }

  async grant(ttlMs: number): Promise<LeaseId> {
    return this.store.grant(ttlMs);
  }

  async keepAlive(lease: LeaseId): Promise<void> {
    this.store.keepAlive(lease);
  }

  async revoke(lease: LeaseId): Promise<void> {
    this.store.revoke(lease);
  }

  watch(prefix: string, afterRevision?: number): KvWatch {
    const w = embeddedWatch(this.store, prefix, afterRevision, (x) => this.watches.delete(x));
    // A watch that failed at once (bad or compacted revision) has already ended.
    if (!w.closed) this.watches.add(w);
    return w;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.stop();
    if (this.options.closeStore === true) this.store.close();
  }
}

/** A KvBackend over an in-process store. */
/** A KvBackend over a store; without one, over a fresh in-memory store that close() also closes. */
export function embeddedKv(store?: WatchStore, options: EmbeddedKvOptions = {}): EmbeddedKv {
  if (store === undefined) return new EmbeddedKv(createStore(), { closeStore: true, ...options });
  return new EmbeddedKv(store, options);
}
