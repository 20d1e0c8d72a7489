/**
 * The standalone watch server: a goms node hosting goms.v1.WatchService over a
 * store (in memory, or persistent with `dir`). Clients: src/watch/client.ts.
 */
import { Code, GomsError } from "../errors/index.js";
import { WatchService } from "../gen/goms/v1/watch_pb.js";
import {
  createNode,
  type GomsNode,
  type NodeAuthOptions,
  type NodeCallsOptions,
  type NodeIdentityOptions,
  type NodeLimitsOptions,
  type NodeListenOptions,
  type Transport,
} from "../rpc/index.js";
import { defaultPollLimits, Poller, type PollLimits } from "./poll.js";
import { watchServiceImpl } from "./service.js";
import { createStore, type WatchStore } from "../kv/store.js";
import type { StoreOptions } from "../kv/types.js";

export interface WatchServerOptions {
  /** The server node's identity. Default name "watch0". */
  identity?: Partial<NodeIdentityOptions>;
  /** Where to listen. Default 127.0.0.1, port 12345 (the registry's usual port); port 0 picks a free one. */
  listen?: NodeListenOptions;
  /** `auth.token`: shared secret required from clients. */
  auth?: NodeAuthOptions;
  /** Server interceptors and call defaults of the server node. */
  calls?: NodeCallsOptions;
  /** Connection tunables, shutdownGraceMs, ... of the server node. */
  limits?: NodeLimitsOptions;
  /** Default TCP; the testing harness passes an in-memory transport. */
  transport?: Transport;
  /** Persist non-leased keys in this directory (see docs/watch.md, Persistence). */
  dir?: string;
  /** fsync each change before answering (default true; only with `dir`). */
  fsync?: boolean;
  /** Further store options (history size, lease timer, ...). */
  store?: Omit<StoreOptions, "dir" | "fsync">;
  /** Long-poll limits (see docs/watch.md, Watch server). */
  poll?: Partial<PollLimits>;
}

interface Running {
  node: GomsNode;
  store: WatchStore;
  poller: Poller;
}

export class WatchServer {
  private readonly o: WatchServerOptions;
  private readonly host: string;
  private running: Running | undefined;
  private closing: Promise<void> | undefined;

  constructor(o: WatchServerOptions = {}) {
    this.o = o;
    this.host = o.listen?.host ?? "127.0.0.1";
  }

  /** The server's goms node (after start). */
  get node(): GomsNode {
    return this.started().node;
  }

  /** The store it serves (after start). */
  get store(): WatchStore {
    return this.started().store;
  }

  get poller(): Poller {
    return this.started().poller;
  }

  /**
   * Opens the store (replaying its files with `dir`) and listens. On failure
   * (port in use, ...) the store is closed again and the error rethrown.
   */
  async start(): Promise<this> {
    if (this.running !== undefined || this.closing !== undefined) {
      throw new GomsError("the watch server was already started", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    }
    const o = this.o;
    const store = createStore({ ...o.store, ...(o.dir === undefined ? {} : { dir: o.dir }), ...(o.fsync === undefined ? {} : { fsync: o.fsync }) });
    const poller = new Poller(store, { ...defaultPollLimits, ...o.poll });
    try {
      const node = createNode({
        identity: { ...o.identity, name: o.identity?.name ?? "watch0" },
        listen: { ...o.listen, host: this.host, port: o.listen?.port ?? 12345 },
        ...(o.auth === undefined ? {} : { auth: o.auth }),
        ...(o.calls === undefined ? {} : { calls: o.calls }),
        ...(o.limits === undefined ? {} : { limits: o.limits }),
        ...(o.transport === undefined ? {} : { transport: o.transport }),
      });
      node.service(WatchService, watchServiceImpl(store, poller));
      this.running = { node, store, poller };
      await node.start();
    } catch (err) {
      this.running = undefined;
      poller.close();
      store.close();
      throw err;
    }
    poller.start();
    return this;
  }

  /** The port it listens on (0 before start). */
  get port(): number {
    return this.running?.node.port ?? 0;
  }

  /** "host:port" the server listens on. */
  get address(): string {
    return `${this.host.includes(":") ? `[${this.host}]` : this.host}:${String(this.port)}`;
  }

  /** The URL clients pass to createWatchClient. */
  get url(): string {
    return `watch://${this.address}`;
  }

  /**
   * Graceful close: parked polls answer at once (their clients re-poll and
   * find the server gone), in-flight calls finish within the grace period
   * (default: the node's limits.shutdownGraceMs), then the store is closed
   * (and its files released).
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    return (this.closing ??= (async () => {
      const r = this.running;
      if (r === undefined) return;
      r.poller.close();
      try {
        await r.node.close(options);
      } finally {
        r.store.close();
      }
    })());
  }

  private started(): Running {
    if (this.running === undefined) throw new GomsError("the watch server is not started", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    return this.running;
  }
}

/** Creates a watch server; call start(). */
export function createWatchServer(options: WatchServerOptions = {}): WatchServer {
  return new WatchServer(options);
}
