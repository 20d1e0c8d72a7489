/**
 * KvBackend (kind "embedded") directly over an in-process store. Watch
 * semantics match the watch client: fromRevision is exclusive, a watcher that
 * falls behind resumes from history transparently, and a watch that cannot be
 * resumed ends with GomsError(OutOfRange).
 */
import { Code, GomsError } from "../errors/index.js";
import type { KvBackend, KvEntry, KvEvent, KvWatch } from "../registry/kv.js";
import { resumeRevisionOf } from "../watch/errors.js";
import { createStore, type WatchStore } from "../watch/store.js";
import type { Watcher } from "../watch/watcher.js";
import { aheadError, entryOf, kvEventOf, parseLease, requireLease } from "../watch/wire.js";

const DONE: IteratorResult<KvEvent> = { done: true, value: undefined };

class EmbeddedWatch implements KvWatch, AsyncIterableIterator<KvEvent> {
  private inner: Watcher | undefined;
  private pending: GomsError | undefined;
  private stopped = false;

  constructor(
    private readonly store: WatchStore,
    private readonly prefix: string,
    fromRevision: number | undefined,
    private readonly onEnd: (w: EmbeddedWatch) => void,
  ) {
    try {
      if (fromRevision !== undefined && (!Number.isSafeInteger(fromRevision) || fromRevision < 0)) {
        throw new GomsError("fromRevision must be a non-negative integer", Code.InvalidArgument);
      }
      const from = fromRevision === undefined ? undefined : fromRevision + 1;
      if (from !== undefined && from > store.revision + 1) throw aheadError(from, store.revision, store.oldestRevision);
      this.inner = store.watch(from === undefined ? { prefix } : { prefix, fromRevision: from });
    } catch (err) {
      this.pending = GomsError.from(err);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pending = undefined;
    this.inner?.stop();
    this.onEnd(this);
  }

  async next(): Promise<IteratorResult<KvEvent>> {
    for (;;) {
      if (this.pending !== undefined) {
        const err = this.pending;
        this.pending = undefined;
        this.stop();
        throw err;
      }
      if (this.stopped || this.inner === undefined) return DONE;
      try {
        const r = await this.inner.next();
        return r.done === true ? DONE : { done: false, value: kvEventOf(r.value) };
      } catch (e) {
        const err = GomsError.from(e);
        const resume = resumeRevisionOf(err);
        if (err.code !== Code.ResourceExhausted || resume === undefined || this.stopped) {
          this.pending = err;
          continue;
        }
        // Fell behind the live queue: pick up again from history.
        try {
          this.inner = this.store.watch({ prefix: this.prefix, fromRevision: resume });
        } catch (e2) {
          this.pending = GomsError.from(e2);
        }
      }
    }
  }

  return(): Promise<IteratorResult<KvEvent>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export interface EmbeddedKvOptions {
  /** close() also closes the store. Default false: the caller owns it. */
  closeStore?: boolean;
}

export class EmbeddedKv implements KvBackend {
  readonly kind = "embedded";
  private readonly watches = new Set<EmbeddedWatch>();

  constructor(
    readonly store: WatchStore,
    private readonly options: EmbeddedKvOptions = {},
  ) {}

  async put(key: string, value: Uint8Array, options: { lease?: string; prevRevision?: number } = {}): Promise<number> {
    const lease = parseLease(options.lease ?? "");
    const { prevRevision } = options;
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

  async grant(ttlMs: number): Promise<string> {
    return String(this.store.grant(ttlMs));
  }

  async keepAlive(lease: string): Promise<void> {
    this.store.keepAlive(requireLease(lease));
  }

  async revoke(lease: string): Promise<void> {
    this.store.revoke(requireLease(lease));
  }

  watch(prefix: string, fromRevision?: number): KvWatch {
    const w = new EmbeddedWatch(this.store, prefix, fromRevision, (x) => this.watches.delete(x));
    this.watches.add(w);
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
