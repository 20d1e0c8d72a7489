/**
 * The standalone watch server: a goms node hosting goms.v1.WatchService over a
 * store (in memory, or persistent with `dir`). Clients: src/watch/client.ts.
 */
import { WatchService } from "../gen/goms/v1/watch_pb.js";
import { createNode, type GomsNode, type NodeOptions, type TlsServerOptions } from "../rpc/index.js";
import { defaultPollLimits, Poller, type PollLimits } from "./poll.js";
import { watchServiceImpl } from "./service.js";
import { createStore, type WatchStore } from "../kv/store.js";
import type { StoreOptions } from "../kv/types.js";

export interface WatchServerOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one. Default 12345 (the Go seed's registry port). */
  port?: number;
  /** Node name. Default "watch0". */
  name?: string;
  /** Shared secret required from clients. */
  token?: string;
  tls?: TlsServerOptions;
  /** Persist non-leased keys in this directory (see docs/watch.md, Persistence). */
  dir?: string;
  /** fsync each change before answering (default true; only with `dir`). */
  fsync?: boolean;
  /** Further store options (history size, lease timer, ...). */
  store?: Omit<StoreOptions, "dir" | "fsync">;
  /** Long-poll limits (see docs/watch.md, Watch server). */
  poll?: Partial<PollLimits>;
  /** Further node options (connection tunables, shutdownGraceMs, ...). */
  node?: Omit<NodeOptions, "name" | "host" | "port" | "token" | "tls">;
}

export class WatchServer {
  readonly node: GomsNode;
  readonly store: WatchStore;
  readonly poller: Poller;
  private readonly host: string;
  private closing: Promise<void> | undefined;

  constructor(o: WatchServerOptions = {}) {
    this.host = o.host ?? "127.0.0.1";
    this.store = createStore({ ...o.store, ...(o.dir === undefined ? {} : { dir: o.dir }), ...(o.fsync === undefined ? {} : { fsync: o.fsync }) });
    this.poller = new Poller(this.store, { ...defaultPollLimits, ...o.poll });
    try {
      this.node = createNode({
        ...o.node,
        name: o.name ?? "watch0",
        host: this.host,
        port: o.port ?? 12345,
        ...(o.token === undefined ? {} : { token: o.token }),
        ...(o.tls === undefined ? {} : { tls: o.tls }),
      });
      this.node.service(WatchService, watchServiceImpl(this.store, this.poller));
    } catch (err) {
      this.store.close();
      throw err;
    }
  }

  /** Listens. On failure (port in use, ...) the store is closed and the error rethrown. */
  async start(): Promise<this> {
    try {
      await this.node.start();
    } catch (err) {
      this.poller.close();
      this.store.close();
      throw err;
    }
    this.poller.start();
    return this;
  }

  get port(): number {
    return this.node.port;
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
   * find the server gone), in-flight calls finish within the grace period,
   * then the store is closed (and its files released).
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    return (this.closing ??= (async () => {
      this.poller.close();
      try {
        await this.node.close(options);
      } finally {
        this.store.close();
      }
    })());
  }
}

/** Creates a watch server; call start(). */
export function createWatchServer(options: WatchServerOptions = {}): WatchServer {
  return new WatchServer(options);
}
