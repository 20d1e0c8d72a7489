/**
 * KvBackend over etcd v3 (npm `etcd3`, gRPC). See docs/registry.md.
 *
 * - Revisions are etcd's store revisions; lease ids are etcd's int64 ids as
 *   decimal strings.
 * - etcd leases have whole-second TTLs: `grant(ttlMs)` asks for
 *   ceil(ttlMs / 1000) s, at least 1 s. etcd raises that further to its own
 *   minimum, 1.5 election timeouts rounded up (2 s with the default 100 ms
 *   heartbeat / 1 s election timeout). Expired leases are reaped by the
 *   leader about every 500 ms, so keys can outlive their TTL by that much.
 * - The etcd3 client's default circuit breaker (5 s open after 3 failures)
 *   is replaced by a pass-through policy: the registry does its own retries
 *   with backoff, and a breaker would delay recovery after an etcd restart.
 */
import { Etcd3, type IKeyValue, type IOptions } from "etcd3";
import { Code, GomsError } from "../errors/index.js";
import { RESUME_REVISION_KEY } from "../kv/errors.js";
import { AsyncQueue, consumerTooSlow } from "../internal/util/async-queue.js";
import { fromEtcd } from "./etcd-errors.js";
import type { KvBackend, KvEntry, KvEvent, KvWatch } from "../kv/backend.js";
import type { LeaseId } from "../kv/lease.js";
import { checkKeySize, checkValueSize, resolveStoreLimits, type StoreLimits } from "../kv/limits.js";

export interface EtcdKvOptions {
  /** Client URLs, e.g. ["http://127.0.0.1:2379"]. */
  readonly endpoints: readonly string[];
  /** Deadline of each unary call in ms (default 5000). */
  readonly callTimeoutMs?: number;
  /** Events a watch buffers for a slow consumer before failing with ResourceExhausted (default 10 000). */
  readonly watchQueueSize?: number;
  /** Passed through to the etcd3 client (TLS credentials, auth, grpc options). */
  readonly client?: Omit<IOptions, "hosts">;
  /**
   * Key and value sizes checked before a put, with the watch store's defaults
   * and errors (4 KiB, 1.5 MiB). etcd itself also refuses requests above its
   * --max-request-bytes (default 1.5 MiB, key + value + overhead).
   */
  readonly limits?: Partial<Pick<StoreLimits, "maxKeyBytes" | "maxValueBytes">>;
}

type CallOptions = NonNullable<Parameters<Etcd3["kv"]["put"]>[1]>;
type FaultHandling = NonNullable<IOptions["faultHandling"]>;
type Policy = NonNullable<FaultHandling["global"]>;
type Backoff = NonNullable<FaultHandling["watchBackoff"]>;

const disposable = { dispose: (): void => undefined };
/** Runs the call once, no retry, no breaker: errors go straight to the caller. */
const passThrough: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => disposable,
  onFailure: () => disposable,
  execute: async (fn) => fn({ signal: new AbortController().signal }),
};

/** Watch stream reconnect delay: 100 ms doubling to 1 s. */
function watchBackoff(ms = 100): Backoff {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, 1000)) };
}

/** The first key after every key that starts with `prefix` (etcd range_end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

function entry(kv: IKeyValue): KvEntry {
  return {
    key: kv.key.toString(),
    value: new Uint8Array(kv.value),
    modRevision: Number(kv.mod_revision),
    lease: kv.lease === "0" || kv.lease === "" ? "" : kv.lease,
  };
}

class EtcdKv implements KvBackend {
  readonly kind = "etcd";
  private readonly client: Etcd3;
  private readonly callTimeoutMs: number;
  private readonly watchQueueSize: number;
  private readonly watches = new Set<AsyncQueue<KvEvent>>();
  private readonly limits: StoreLimits;

  constructor(opts: EtcdKvOptions) {
    if (opts.endpoints.length === 0) throw new GomsError("etcdKv needs at least one endpoint", Code.InvalidArgument);
    this.limits = resolveStoreLimits(opts.limits);
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.watchQueueSize = opts.watchQueueSize ?? 10_000;
    const extra = opts.client ?? {};
    this.client = new Etcd3({
      ...extra,
      hosts: [...opts.endpoints],
      grpcOptions: {
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": 1000,
        ...extra.grpcOptions,
      },
      faultHandling: { host: () => passThrough, global: passThrough, watchBackoff: watchBackoff(), ...extra.faultHandling },
    });
  }

  private call(): CallOptions {
    return { deadline: Date.now() + this.callTimeoutMs };
  }

  async put(key: string, value: Uint8Array, options: { lease?: LeaseId } = {}): Promise<number> {
    checkKeySize(key, this.limits);
    checkValueSize(value, this.limits);
    try {
      const res = await this.client.kv.put(
        { key: Buffer.from(key), value: Buffer.from(value), lease: options.lease || "0" },
        this.call(),
      );
      return Number(res.header.revision);
    } catch (e) {
      throw fromEtcd(e, `put ${key}`);
    }
  }

  async get(key: string): Promise<KvEntry | undefined> {
    try {
      const res = await this.client.kv.range({ key: Buffer.from(key) }, this.call());
      const kv = res.kvs[0];
      return kv === undefined ? undefined : entry(kv);
    } catch (e) {
      throw fromEtcd(e, `get ${key}`);
    }
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    const key = Buffer.from(prefix);
    try {
      const res = await this.client.kv.range({ key: key.length ? key : Buffer.from([0]), range_end: prefixEnd(key) }, this.call());
      return { entries: res.kvs.map(entry), revision: Number(res.header.revision) };
    } catch (e) {
      throw fromEtcd(e, `range ${prefix}`);
    }
  }

  async delete(key: string): Promise<number> {
    try {
      const res = await this.client.kv.deleteRange({ key: Buffer.from(key) }, this.call());
      return Number(res.header.revision);
    } catch (e) {
      throw fromEtcd(e, `delete ${key}`);
    }
  }

  async grant(ttlMs: number): Promise<LeaseId> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new GomsError("lease ttl must be a positive number of ms", Code.InvalidArgument);
    const ttl = Math.max(1, Math.ceil(ttlMs / 1000));
    try {
      const res = await this.client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 }, this.call());
      return res.ID;
    } catch (e) {
      throw fromEtcd(e, "lease grant");
    }
  }

  /** One LeaseKeepAlive round trip on a short-lived stream (what etcd3's keepaliveOnce does). */
  async keepAlive(lease: LeaseId): Promise<void> {
    let ttl: string;
    try {
      const stream = await this.client.leaseClient.leaseKeepAlive(this.call());
      try {
        ttl = await new Promise<string>((resolve, reject) => {
          stream.on("data", (res) => resolve(res.TTL));
          stream.on("error", reject);
          stream.on("end", () => reject(new GomsError("keepalive stream ended without a response", Code.Unavailable)));
          stream.write({ ID: lease });
        });
      } finally {
        stream.end();
      }
    } catch (e) {
      throw fromEtcd(e, `lease keepalive ${lease}`);
    }
    if (Number(ttl) <= 0) throw new GomsError(`lease ${lease} not found (expired or revoked)`, Code.NotFound);
  }

  async revoke(lease: LeaseId): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: lease }, this.call());
    } catch (e) {
      throw fromEtcd(e, `lease revoke ${lease}`);
    }
  }

  watch(prefix: string, afterRevision?: number): KvWatch {
    const builder = this.client.watch().prefix(prefix);
    if (afterRevision !== undefined) builder.startRevision(String(afterRevision + 1));
    const w = builder.watcher();
    const q: AsyncQueue<KvEvent> = new AsyncQueue<KvEvent>({
      limit: this.watchQueueSize,
      onClose: () => {
        this.watches.delete(q);
        w.removeAllListeners();
        w.on("error", () => undefined);
        w.cancel().catch(() => undefined);
      },
    });
    this.watches.add(q);
    // The revision a resumed watch would start at. Tracked here because etcd3's
    // own lastRevision() jumps to the header revision on "created".
    let resume = afterRevision === undefined ? 0 : afterRevision + 1;
    w.on("data", (res) => {
      resume = Number(res.header.revision) + 1;
      for (const ev of res.events) {
        const put = ev.type === "Put";
        const ok = q.push({
          type: put ? "put" : "delete",
          key: ev.kv.key.toString(),
          value: put ? new Uint8Array(ev.kv.value) : undefined,
          revision: Number(ev.kv.mod_revision),
        });
        if (!ok) {
          // Full (or already closed): the consumer must resync rather than silently miss events.
          q.fail(consumerTooSlow(this.watchQueueSize));
          return;
        }
      }
    });
    w.on("connected", (res) => {
      // A (re)created watch on a store whose revision is behind where we were:
      // etcd was restored or wiped. Events below `resume` would be skipped
      // silently, so make the consumer resync.
      const rev = Number(res.header.revision);
      if (resume > 0 && rev + 1 < resume) {
        q.fail(new GomsError(`etcd revision went back from ${String(resume - 1)} to ${String(rev)}: resync required`, Code.OutOfRange));
      }
    });
    w.on("error", (err) => void this.watchFailed(q, prefix, resume, err));
    return q;
  }

  /**
   * etcd cancels a watch whose start revision was compacted with an empty
   * reason, so probe with a range read at that revision to tell compaction
   * (OutOfRange, resync needed) from other cancellations.
   */
  private async watchFailed(q: AsyncQueue<KvEvent>, prefix: string, resume: number, err: Error): Promise<void> {
    if (resume > 0) {
      try {
        await this.client.kv.range({ key: Buffer.from(prefix), revision: String(resume), limit: 1, count_only: true }, this.call());
      } catch (e) {
        const mapped = fromEtcd(e, "watch");
        if (mapped.code === Code.OutOfRange && mapped.message.includes("compacted")) {
          q.fail(
            new GomsError(`compacted: resume from revision ${String(resume)} requires a full resync`, Code.OutOfRange, {
              cause: err,
              metadata: { [RESUME_REVISION_KEY]: String(resume) },
            }),
          );
          return;
        }
      }
    }
    q.fail(fromEtcd(err, `watch ${prefix}`));
  }

  async close(): Promise<void> {
    for (const q of [...this.watches]) q.stop();
    this.client.close();
  }
}

/** A KvBackend on an etcd v3 cluster. */
export function etcdKv(opts: EtcdKvOptions): KvBackend {
  return new EtcdKv(opts);
}
