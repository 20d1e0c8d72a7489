import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { defaultOutlierOptions, OutlierDetector, type OutlierOptions } from "../internal/health/outlier.js";
import type { PeerHealth } from "../internal/health/peer-health.js";
import { HashRing } from "./hash-ring.js";
import type { Peer } from "./peer.js";
import { probePeer } from "./peer-probe.js";

/**
 * How a call picks among the ready nodes hosting its service:
 * - "round-robin": in turn (default);
 * - "random": uniformly at random;
 * - "least-inflight": power of two random choices, the one with fewer calls in flight.
 * A call with a `shardKey` always uses consistent hashing on it instead.
 */
export type Balancer = "round-robin" | "random" | "least-inflight";

export interface PeerTableOptions {
  balancer: Balancer;
  /** Prefer nodes of this region when any is ready; undefined disables. */
  region: number | undefined;
  /** Outlier ejection and per-peer breakers (over the defaults); `false` turns them off. */
  outliers?: Partial<OutlierOptions> | false | undefined;
}

/** Ready, not `exclude`, and (when `healthy`) not ejected. */
function usable(p: Peer, exclude: Peer | undefined, healthy: boolean): boolean {
  const c = p.conn;
  return c !== undefined && c.ready && p !== exclude && (!healthy || p.health.routable);
}

/**
 * Which connected peers host which services. Rebuilt on every peer change so
 * that picking a connection for a call is a map lookup plus round-robin.
 */
export class PeerTable {
  readonly peers = new Map<string, Peer>();
  /** Ready peers per service, same-region peers only when there are any. */
  private byService = new Map<string, Peer[]>();
  /** Every ready peer per service, regardless of region. */
  private allByService = new Map<string, Peer[]>();
  private rings = new Map<string, HashRing<Peer>>();
  private byName = new Map<string, Peer>();
  private readonly cursor = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private readonly opts: PeerTableOptions;
  /** Decides which peers are routable (ejection, breakers): the health records live there. */
  readonly outliers: OutlierDetector;
  /** The peer of each health record, for probes. */
  private readonly byHealth = new Map<PeerHealth, Peer>();

  constructor(opts: PeerTableOptions = { balancer: "round-robin", region: undefined }) {
    this.opts = opts;
    this.outliers = new OutlierDetector(opts.outliers === false ? undefined : { ...defaultOutlierOptions, ...opts.outliers }, {
      ready: () => {
        let n = 0;
        for (const p of this.peers.values()) if (p.state === "ready") n++;
        return n;
      },
      probe: (h, timeoutMs) => {
        const p = this.byHealth.get(h);
        return p === undefined ? Promise.resolve(false) : probePeer(p, timeoutMs);
      },
    });
  }

  /** A health record for a new peer (see add()). */
  track(name: () => string): PeerHealth {
    return this.outliers.track(name);
  }

  add(peer: Peer): void {
    this.peers.set(peer.key, peer);
    this.byHealth.set(peer.health, peer);
  }

  remove(key: string): Peer | undefined {
    const p = this.peers.get(key);
    if (p) {
      this.peers.delete(key);
      this.byHealth.delete(p.health);
      this.outliers.untrack(p.health);
      this.rebuild();
    }
    return p;
  }

  /** Re-indexes ready peers and wakes calls waiting for a peer. */
  rebuild(): void {
    const byService = new Map<string, Peer[]>();
    const byName = new Map<string, Peer>();
    for (const p of this.peers.values()) {
      if (p.state !== "ready" || p.identity === undefined) continue;
      byName.set(p.identity.name, p);
      for (const s of p.identity.services) {
        let list = byService.get(s);
        if (!list) byService.set(s, (list = []));
        list.push(p);
      }
    }
    const preferred = new Map<string, Peer[]>();
    for (const [svc, list] of byService) {
      const region = this.opts.region;
      const local = region === undefined ? list : list.filter((p) => p.identity!.region === region);
      preferred.set(svc, local.length > 0 ? local : list);
    }
    this.byService = preferred;
    this.allByService = byService;
    this.rings = new Map();
    this.byName = byName;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /**
   * A ready peer hosting `service` (undefined if none), chosen by the
   * balancer, or by consistent hashing on `shardKey`. `exclude` skips a peer
   * that already failed this call. Ejected peers (outlier detection, open
   * breakers) are skipped while any other can take the call; when none can,
   * they are used anyway: ejection never leaves a service without a node.
   */
  pick(service: string, shardKey?: string, exclude?: Peer): Peer | undefined {
    const list = this.byService.get(service);
    if (list === undefined) return undefined;
    if (shardKey !== undefined) return this.pickShard(service, shardKey, exclude, true) ?? this.pickShard(service, shardKey, exclude, false);
    return this.pickFrom(service, list, exclude, true) ?? this.pickFrom(service, list, exclude, false);
  }

  /**
   * Like pick(), but never an ejected peer, and undefined rather than `exclude`:
   * where a hedge goes (a second copy is only worth sending to a node that is
   * routable and not the one already holding the call).
   */
  pickRoutable(service: string, shardKey: string | undefined, exclude: Peer): Peer | undefined {
    const list = this.byService.get(service);
    if (list === undefined) return undefined;
    if (shardKey !== undefined) return this.pickShard(service, shardKey, exclude, true);
    return this.pickFrom(service, list, exclude, true);
  }

  private pickFrom(service: string, list: readonly Peer[], exclude: Peer | undefined, healthy: boolean): Peer | undefined {
    const n = list.length;
    if (n === 1) return usable(list[0]!, exclude, healthy) ? list[0] : this.fallback(service, exclude, healthy);
    switch (this.opts.balancer) {
      case "random":
        return this.scan(list, Math.floor(Math.random() * n), exclude, healthy) ?? this.fallback(service, exclude, healthy);
      case "least-inflight": {
        const a = list[Math.floor(Math.random() * n)]!;
        const b = list[Math.floor(Math.random() * n)]!;
        const okA = usable(a, exclude, healthy);
        const okB = usable(b, exclude, healthy);
        if (okA && okB) return a.conn!.inflight <= b.conn!.inflight ? a : b;
        if (okA) return a;
        if (okB) return b;
        return this.scan(list, 0, exclude, healthy) ?? this.fallback(service, exclude, healthy);
      }
      default: {
        const start = (this.cursor.get(service) ?? 0) % n;
        this.cursor.set(service, start + 1);
        return this.scan(list, start, exclude, healthy) ?? this.fallback(service, exclude, healthy);
      }
    }
  }

  private scan(list: readonly Peer[], start: number, exclude: Peer | undefined, healthy: boolean): Peer | undefined {
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const p = list[(start + i) % n]!;
      if (usable(p, exclude, healthy)) return p;
    }
    return undefined;
  }

  /** Other regions, when every preferred node is unusable. */
  private fallback(service: string, exclude: Peer | undefined, healthy: boolean): Peer | undefined {
    const all = this.allByService.get(service);
    if (all === undefined || all === this.byService.get(service)) return undefined;
    return this.scan(all, 0, exclude, healthy);
  }

  private pickShard(service: string, key: string, exclude: Peer | undefined, healthy: boolean): Peer | undefined {
    let ring = this.rings.get(service);
    if (ring === undefined) {
      const all = this.allByService.get(service) ?? [];
      ring = new HashRing(all.map((p) => ({ id: p.identity!.name, value: p })));
      this.rings.set(service, ring);
    }
    return ring.lookup(key, (p) => usable(p, exclude, healthy));
  }

  /** The ready peer named `name` (a pinned call: taken even when ejected). */
  pickNode(name: string): Peer | undefined {
    const p = this.byName.get(name);
    return p !== undefined && p.conn !== undefined && p.conn.ready ? p : undefined;
  }

  /** Every ready peer hosting `service`. */
  all(service: string): readonly Peer[] {
    return this.byService.get(service) ?? [];
  }

  /** Fully-qualified names of every service some ready peer hosts. */
  services(): string[] {
    return [...this.byService.keys()];
  }

  /** True while some peer is dialling: a call with no target yet may wait for it. */
  get connecting(): boolean {
    for (const p of this.peers.values()) if (p.state === "connecting") return true;
    return false;
  }

  /** Resolves on the next peer change, or rejects when `deadline` passes or `signal` aborts. */
  waitChange(deadline: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        cleanup();
        reject(GomsError.from(signal!.reason, Code.Canceled));
      };
      const wake = (): void => {
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiters = this.waiters.filter((w) => w !== wake);
      };
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new GomsError("deadline exceeded while waiting for a node", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" }));
        }, Math.max(0, deadline - Date.now()));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(wake);
    });
  }
}
