/**
 * A client of the watch server: the registry's KvBackend (kind "watch") plus
 * the hash commands, over a goms client node with the server as its peer.
 */
import { Code, GomsError } from "../errors/index.js";
import { WatchService, type WatchPollResponse } from "../gen/goms/v1/watch_pb.js";
import type { BackoffOptions } from "../internal/util/backoff.js";
import {
  createNode,
  type Client,
  type GomsNode,
  type NodeAuthOptions,
  type NodeIdentityOptions,
  type NodeLimitsOptions,
  type TlsClientOptions,
  type Transport,
} from "../rpc/index.js";
import type { KvBackend, KvBackendFactory, KvEntry } from "../kv/backend.js";
import type { LeaseId } from "../kv/lease.js";
import { ResumingWatch } from "./resuming-watch.js";
import { answerLimit, own, wireToEntry } from "./wire.js";

export interface WatchClientOptions {
  /** "watch://host:port". */
  url: string;
  /** The client node's identity. Default name "watch-client-<pid>-<random>". */
  identity?: Partial<NodeIdentityOptions>;
  /** `auth.token`: the server's shared secret. */
  auth?: NodeAuthOptions;
  /** Dial the server over TLS. */
  tls?: TlsClientOptions;
  /** Deadline of each command, ms. Default 10000. */
  timeoutMs?: number;
  /**
   * How watches follow the server: "stream" (default), one WatchService.Watch
   * server stream per watch; or "poll", the older long polls
   * (WatchService.Poll), for comparison. A server that does not know Watch
   * (Unimplemented) makes the client fall back to polls by itself.
   */
  watchMode?: "stream" | "poll";
  /** Long-poll wait, ms (watchMode "poll"). Default 25000 (the server caps it at its maxWaitMs, 30 s by default). */
  pollWaitMs?: number;
  /** Events per poll answer or per stream message. Default 1000. */
  pollMaxEvents?: number;
  /** Watch retry delays while the server is unreachable. Default 50 ms doubling to 2 s. */
  retry?: Partial<BackoffOptions>;
  /** How to reach the server (default TCP); the testing harness passes an in-memory transport. */
  transport?: Transport;
  /**
   * The client node's connection limits. `connection.maxFrameSize` (default
   * 16 MiB) also sets the largest poll answer the client asks for, so a watch
   * never receives an answer it would refuse.
   */
  limits?: NodeLimitsOptions;
}

/** Parses "watch://host:port" (IPv6 in brackets). */
export function parseWatchUrl(url: string): { host: string; port: number } {
  const m = /^watch:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  const port = Number(m?.[2]);
  if (m === null || !(port > 0 && port < 65536)) {
    throw new GomsError(`invalid watch url ${JSON.stringify(url)}: expected watch://host:port`, Code.InvalidArgument);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

export class WatchClient implements KvBackend {
  readonly kind = "watch";
  readonly node: GomsNode;
  private readonly rpc: Client<typeof WatchService>;
  private starting: Promise<unknown> | undefined;
  private readonly timeoutMs: number;
  private readonly watches = new Set<ResumingWatch>();
  private watchMode: "stream" | "poll";
  private readonly pollWaitMs: number;
  private readonly pollMaxEvents: number;
  private readonly pollMaxBytes: number;
  private readonly retry: BackoffOptions;
  private closed = false;

  constructor(o: WatchClientOptions) {
    const peer = parseWatchUrl(o.url);
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.watchMode = o.watchMode ?? "stream";
    this.pollWaitMs = o.pollWaitMs ?? 25_000;
    this.pollMaxEvents = o.pollMaxEvents ?? 1000;
    this.pollMaxBytes = answerLimit(o.limits?.connection?.maxFrameSize);
    this.retry = { initialMs: 50, maxMs: 2000, ...o.retry };
    this.node = createNode({
      identity: { ...o.identity, name: o.identity?.name ?? `watch-client-${String(process.pid)}-${Math.random().toString(36).slice(2, 8)}` },
      peers: { addresses: [peer], reconnect: this.retry, ...(o.tls === undefined ? {} : { tls: o.tls }) },
      ...(o.auth === undefined ? {} : { auth: o.auth }),
      ...(o.transport === undefined ? {} : { transport: o.transport }),
      ...(o.limits === undefined ? {} : { limits: o.limits }),
    });
    this.rpc = this.node.client(WatchService);
  }

  /**
   * Connects to the server; resolves after the first attempt, successful or
   * not (the client keeps reconnecting in the background, and commands wait
   * for the connection within their deadline). Optional: the first command or
   * watch starts the client itself, so a client handed to createRegistry()
   * or registryFromUrl() needs no start().
   */
  async start(): Promise<this> {
    if (this.closed) throw new GomsError("watch client closed", Code.Unavailable);
    await this.ready();
    return this;
  }

  private ready(): Promise<unknown> {
    if (this.starting === undefined && this.closed) return Promise.reject(new GomsError("watch client closed", Code.Unavailable));
    return (this.starting ??= this.node.start());
  }

  private async call<T>(fn: (rpc: Client<typeof WatchService>, opts: { timeoutMs: number }) => Promise<T>): Promise<T> {
    if (this.closed) throw new GomsError("watch client closed", Code.Unavailable);
    await this.ready();
    const deadline = Date.now() + this.timeoutMs;
    await this.connected(deadline);
    return fn(this.rpc, { timeoutMs: Math.max(1, deadline - Date.now()) }).catch((e: unknown) => {
      throw this.explain(e);
    });
  }

  /**
   * Waits (until `deadline`) for the server connection, so that a command
   * issued while the client reconnects (server restart, network blip) is sent
   * once the connection is back instead of failing at once. Returns early if
   * the server refused our token; the call then fails and explain() says why.
   */
  private async connected(deadline: number): Promise<void> {
    for (;;) {
      const peer = this.node.peerList()[0];
      if (peer === undefined || peer.state === "ready" || this.closed || peer.lastError?.code === Code.Unauthenticated) return;
      const now = Date.now();
      if (now >= deadline) return;
      await this.node.waitForPeer(Math.min(deadline - now, 100));
    }
  }

  /**
   * A refused handshake shows up as Unavailable on calls; when the server
   * refused our token, say so (and make watches stop retrying).
   */
  private explain(e: unknown): GomsError {
    const err = GomsError.from(e);
    if (err.code !== Code.Unavailable) return err;
    for (const p of this.node.peerList()) {
      const last = p.lastError;
      if (p.state !== "ready" && last?.code === Code.Unauthenticated) return new GomsError(last.rawMessage, Code.Unauthenticated, { cause: err });
    }
    return err;
  }

  async put(key: string, value: Uint8Array, options: { lease?: LeaseId; prevRevision?: number } = {}): Promise<number> {
    const { lease, prevRevision } = options;
    const r = await this.call((c, o) =>
      c.put({ key, value, lease: lease ?? "", ...(prevRevision === undefined ? {} : { prevRevision: BigInt(prevRevision) }) }, o),
    );
    return Number(r.revision);
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const r = await this.call((c, o) => c.get({ key }, o));
    return r.kv === undefined ? undefined : wireToEntry(r.kv);
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    const r = await this.call((c, o) => c.range({ prefix }, o));
    return { entries: r.kvs.map(wireToEntry), revision: Number(r.revision) };
  }

  /** Deletes `key`; returns the store revision after the call. */
  async delete(key: string, options: { prevRevision?: number } = {}): Promise<number> {
    const { prevRevision } = options;
    const r = await this.call((c, o) => c.delete({ key, ...(prevRevision === undefined ? {} : { prevRevision: BigInt(prevRevision) }) }, o));
    return Number(r.revision);
  }

  async deletePrefix(prefix: string): Promise<{ deleted: number; revision: number }> {
    const r = await this.call((c, o) => c.deletePrefix({ prefix }, o));
    return { deleted: r.deleted, revision: Number(r.revision) };
  }

  async grant(ttlMs: number): Promise<LeaseId> {
    if (!Number.isSafeInteger(ttlMs)) throw new GomsError("ttlMs must be an integer", Code.InvalidArgument);
    const r = await this.call((c, o) => c.grant({ ttlMs: BigInt(ttlMs) }, o));
    return r.lease;
  }

  async keepAlive(lease: LeaseId): Promise<void> {
    await this.call((c, o) => c.keepAlive({ lease }, o));
  }

  /** Remaining ms of the lease. */
  async timeToLive(lease: LeaseId): Promise<number> {
    const r = await this.call((c, o) => c.timeToLive({ lease }, o));
    return Number(r.ttlMs);
  }

  async revoke(lease: LeaseId): Promise<void> {
    await this.call((c, o) => c.revoke({ lease }, o));
  }

  // ---- hash commands (HSet/HGet/HIncrBy/...: a hash of fields under one key) ----

  async hset(key: string, field: string, value: Uint8Array, options: { lease?: LeaseId } = {}): Promise<number> {
    const r = await this.call((c, o) => c.hSet({ key, field, value, lease: options.lease ?? "" }, o));
    return Number(r.revision);
  }

  async hget(key: string, field: string): Promise<Uint8Array | undefined> {
    const r = await this.call((c, o) => c.hGet({ key, field }, o));
    return r.value === undefined ? undefined : own(r.value);
  }

  async hgetall(key: string): Promise<Record<string, Uint8Array>> {
    const r = await this.call((c, o) => c.hGetAll({ key }, o));
    return Object.fromEntries(Object.entries(r.fields).map(([f, v]) => [f, own(v)]));
  }

  async hdel(key: string, field: string): Promise<{ deleted: number; revision: number }> {
    const r = await this.call((c, o) => c.hDel({ key, field }, o));
    return { deleted: r.deleted, revision: Number(r.revision) };
  }

  async del(key: string): Promise<{ deleted: number; revision: number }> {
    const r = await this.call((c, o) => c.del({ key }, o));
    return { deleted: r.deleted, revision: Number(r.revision) };
  }

  async hincrby(key: string, field: string, n: number): Promise<number> {
    if (!Number.isSafeInteger(n)) throw new GomsError("hincrby increment must be a safe integer", Code.InvalidArgument);
    const r = await this.call((c, o) => c.hIncrBy({ key, field, n: BigInt(n) }, o));
    return Number(r.value);
  }

  async keyPrefix(prefix: string): Promise<string[]> {
    const r = await this.call((c, o) => c.keyPrefix({ prefix }, o));
    return r.keys;
  }

  // ---- watch ----

  /**
   * Follows keys under `prefix` after `afterRevision` (exclusive), or from now.
   * Survives connection loss and restarts of a persistent server, resuming
   * from the last revision it saw; ends with OutOfRange when the server no
   * longer has the history to resume.
   */
  watch(prefix: string, afterRevision?: number): ResumingWatch {
    const w = new ResumingWatch(afterRevision, (from, signal) => this.batches(prefix, from, signal), this.retry, (x) => this.watches.delete(x));
    if (this.closed) w.stop();
    else this.watches.add(w);
    return w;
  }

  /**
   * The batches of events under `prefix` from revision `from`: a Watch stream
   * (no deadline: it lasts as long as the watch, and the connection's pings
   * notice a dead server), or one long poll.
   */
  private async *batches(prefix: string, from: number, signal: AbortSignal): AsyncGenerator<WatchPollResponse> {
    await this.ready();
    const filter = { case: "prefix" as const, value: prefix };
    const fromRevision = BigInt(from);
    if (this.watchMode === "stream") {
      try {
        yield* this.rpc.watch({ filter, fromRevision, maxEvents: this.pollMaxEvents, maxBytes: this.pollMaxBytes }, { signal, timeoutMs: 0 });
        return;
      } catch (e) {
        const err = this.explain(e);
        if (err.code !== Code.Unimplemented) throw err;
        this.watchMode = "poll"; // a server older than Watch
      }
    }
    const req = { filter, fromRevision, maxEvents: this.pollMaxEvents, waitMs: this.pollWaitMs, maxBytes: this.pollMaxBytes };
    yield await this.rpc.poll(req, { signal, timeoutMs: this.pollWaitMs + this.timeoutMs }).catch((e: unknown) => {
      throw this.explain(e);
    });
  }

  /**
   * Stops every watch, lets commands in flight finish within `graceMs`
   * (default 0: they fail at once with unavailable), and closes the client node.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.stop();
    await this.starting?.catch(() => undefined);
    await this.node.close({ graceMs: options.graceMs ?? 0 });
  }
}

/** Creates a client of the watch server at `url` ("watch://host:port"). It connects on start() or on first use. */
export function createWatchClient(options: WatchClientOptions): WatchClient {
  return new WatchClient(options);
}

/**
 * The registry URL scheme this client serves, for
 * `registryFromUrl(url, { schemes: watchSchemes })` (goms/registry).
 */
export const watchSchemes: Readonly<Record<string, KvBackendFactory>> = Object.freeze({
  watch: (url: string) => createWatchClient({ url }),
});
