/**
 * KvBackend over the in-process watch store (src/watch, createStore()).
 * No network: every call is a synchronous store command wrapped in a promise.
 * The watch server reuses this to serve its clients.
 */
import { Code, GomsError } from "../errors/index.js";
import { createStore, resumeRevisionOf, type WatchEvent, type WatchStore, type Watcher } from "../watch/index.js";
import type { KvBackend, KvEntry, KvEvent, KvWatch } from "./kv.js";

export interface EmbeddedKvOptions {
  /** Close the store in `close()` (default: true when embeddedKv created the store). */
  readonly closeStore?: boolean;
}

function leaseId(lease: string): number {
  const n = Number(lease);
  if (!Number.isSafeInteger(n) || n <= 0) throw new GomsError(`lease ${JSON.stringify(lease)} not found`, Code.NotFound);
  return n;
}

/** Runs a synchronous store command, turning throws into rejections. */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(GomsError.from(e));
  }
}

function event(ev: WatchEvent): KvEvent {
  return { type: ev.type, key: ev.key, value: ev.type === "put" ? ev.value : undefined, revision: ev.revision };
}

/**
 * Adapts a store Watcher to KvWatch. When the store drops a watcher that fell
 * behind (ResourceExhausted with a resume revision), it resumes transparently
 * from that revision; if the history no longer has it the watch ends with
 * OutOfRange, as the contract says.
 */
class EmbeddedWatch implements KvWatch, AsyncIterator<KvEvent> {
  private inner: Watcher | undefined;
  private startError: unknown;
  private stopped = false;

  constructor(
    private readonly store: WatchStore,
    private readonly prefix: string,
    fromRevision: number | undefined,
    private readonly onDone: (w: EmbeddedWatch) => void,
  ) {
    try {
      this.inner = this.open(fromRevision === undefined ? undefined : fromRevision + 1);
    } catch (e) {
      this.startError = GomsError.from(e);
    }
  }

  private open(from: number | undefined): Watcher {
    return this.store.watch(from === undefined ? { prefix: this.prefix } : { prefix: this.prefix, fromRevision: from });
  }

  async next(): Promise<IteratorResult<KvEvent>> {
    for (;;) {
      if (this.stopped) return { done: true, value: undefined };
      if (this.startError !== undefined) {
        const e = this.startError;
        this.startError = undefined;
        this.stop();
        throw e;
      }
      const inner = this.inner;
      if (inner === undefined) return { done: true, value: undefined };
      try {
        const r = await inner.next();
        if (r.done) return { done: true, value: undefined };
        return { done: false, value: event(r.value) };
      } catch (e) {
        const resume = resumeRevisionOf(e);
        if (this.stopped || !GomsError.is(e) || e.code !== Code.ResourceExhausted || resume === undefined) {
          this.stop();
          throw GomsError.from(e);
        }
        try {
          this.inner = this.open(resume);
        } catch (e2) {
          this.stop();
          throw GomsError.from(e2);
        }
      }
    }
  }

  return(): Promise<IteratorResult<KvEvent>> {
    this.stop();
    return Promise.resolve({ done: true, value: undefined });
  }

  stop(): void {
    this.stopped = true;
    this.inner?.stop();
    this.onDone(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<KvEvent> {
    return this;
  }
}

class EmbeddedKv implements KvBackend {
  readonly kind = "embedded";
  private readonly watches = new Set<EmbeddedWatch>();

  constructor(
    readonly store: WatchStore,
    private readonly closeStore: boolean,
  ) {}

  put(key: string, value: Uint8Array, options: { lease?: string } = {}): Promise<number> {
    return run(() => this.store.put(key, value, options.lease ? { lease: leaseId(options.lease) } : {}));
  }

  get(key: string): Promise<KvEntry | undefined> {
    return run(() => {
      const kv = this.store.get(key);
      return kv === undefined ? undefined : { key, value: kv.value, modRevision: kv.modRevision, lease: kv.lease === undefined ? "" : String(kv.lease) };
    });
  }

  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    return run(() => {
      const { kvs, revision } = this.store.range(prefix);
      const entries = kvs.map((kv) => ({
        key: kv.key,
        value: kv.value,
        modRevision: kv.modRevision,
        lease: kv.lease === undefined ? "" : String(kv.lease),
      }));
      return { entries, revision };
    });
  }

  delete(key: string): Promise<number> {
    return run(() => this.store.delete(key).revision);
  }

  grant(ttlMs: number): Promise<string> {
    return run(() => String(this.store.grant(ttlMs)));
  }

  keepAlive(lease: string): Promise<void> {
    return run(() => void this.store.keepAlive(leaseId(lease)));
  }

  revoke(lease: string): Promise<void> {
    return run(() => void this.store.revoke(leaseId(lease)));
  }

  watch(prefix: string, fromRevision?: number): KvWatch {
    const w = new EmbeddedWatch(this.store, prefix, fromRevision, (x) => this.watches.delete(x));
    this.watches.add(w);
    return w;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.stop();
    if (this.closeStore) this.store.close();
  }
}

/** A KvBackend on an in-process store; with no store, a fresh in-memory one. */
export function embeddedKv(store?: WatchStore, opts: EmbeddedKvOptions = {}): KvBackend & { readonly store: WatchStore } {
  return new EmbeddedKv(store ?? createStore(), opts.closeStore ?? store === undefined);
}
