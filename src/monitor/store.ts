import { getCodec } from "../codec/codec.js";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { gomsError } from "../errors/reasons.js";
import { NodeStatsSchema, type MonitorService, type NodeStats } from "../gen/goms/v1/monitor_pb.js";
import { CappedMap } from "../internal/util/capped-map.js";
import { MAX_EJECTED_PUSHED } from "./capacity-stats.js";
import type { ServiceImpl } from "../rpc/types.js";
import { checkPushIdentity, cut, type RegisteredIdentity } from "./push-identity.js";
import { Ring } from "./ring.js";
import { seriesPoint } from "./series.js";
import type { MonitorEvent, MonitorStoreView, NodeView, SeriesPoint } from "./store-types.js";

export interface MonitorStoreOptions {
  /** How much series history to keep per node, and how long a stale node is remembered. Default 1 h. */
  windowMs?: number;
  /** A node is stale after this long without a push. Default: 3 × the node's own push interval. */
  staleAfterMs?: number;
  /** Clock (Unix ms), for tests. Default Date.now. */
  now?: () => number;
  /** How often a timer looks for stale nodes (ms). Default 1000; 0: no timer (checks run on reads and sweep()). */
  sweepMs?: number;
  /** Push interval to ask nodes for in PushResponse (ms). Default 0: nodes keep theirs. */
  pushIntervalMs?: number;
  /** Series capacity per node. Default max(720, windowMs / 1 s). Never below 720. */
  maxPoints?: number;
  /** Bounds on what pushes may make the store hold; the excess is refused, nothing is evicted. */
  limits?: MonitorStoreLimits;
  /**
   * The registrations to check pushed identities against, when the cluster
   * uses a registry: `(name) => node.discovered().get(name)?.node` of the
   * hosting node. Without it only the connection's HELLO identity is checked.
   */
  registered?: RegisteredIdentity;
}

/** Defaults: docs/monitoring.md "Limits". */
export interface MonitorStoreLimits {
  /** Nodes tracked at once (stale ones count until forgotten). Default 500. */
  maxNodes?: number;
  /** MethodStats entries in one push. Default 500. */
  maxMethodsPerNode?: number;
  /** Encoded size of one push's NodeStats, bytes. Default 128 KiB. */
  maxStatsBytes?: number;
  /** Ejected peers (NodeStats.outliers.ejected) in one push. Default 64, what a goms node sends at most. */
  maxEjectedPerNode?: number;
}

export const DEFAULT_MONITOR_LIMITS: Required<MonitorStoreLimits> = { maxNodes: 500, maxMethodsPerNode: 500, maxStatsBytes: 128 * 1024, maxEjectedPerNode: MAX_EJECTED_PUSHED };

export interface MonitorStore extends MonitorStoreView {
  /** Records one push (what the Push handler does after checking the pusher's identity); throws past the limits. */
  push(stats: NodeStats): void;
  /** The goms.v1.MonitorService implementation to host on the admin node. */
  service(): ServiceImpl<typeof MonitorService>;
  /** Marks nodes stale or forgets them now (the timer does it every sweepMs). */
  sweep(): void;
  /** Stops the timer and drops subscribers. */
  close(): void;
}

interface Entry {
  name: string;
  latest: NodeStats;
  receivedAt: number;
  stale: boolean;
  series: Ring<SeriesPoint>;
}

const DEFAULT_INTERVAL_MS = 5000;
const MIN_POINTS = 720;

export function createMonitorStore(opts: MonitorStoreOptions = {}): MonitorStore {
  const windowMs = opts.windowMs ?? 3_600_000;
  const now = opts.now ?? Date.now;
  const capacity = Math.max(MIN_POINTS, opts.maxPoints ?? Math.ceil(windowMs / 1000));
  const limits = { ...DEFAULT_MONITOR_LIMITS, ...opts.limits };
  const entries = new CappedMap<string, Entry>(limits.maxNodes, () => new GomsError("monitor store full", Code.ResourceExhausted));
  const statsCodec = getCodec(NodeStatsSchema);
  const subscribers = new Set<(ev: MonitorEvent) => void>();

  const emit = (ev: MonitorEvent): void => {
    for (const fn of [...subscribers]) {
      try {
        fn(ev);
      } catch {
        // a faulty subscriber must not break the store or other subscribers
      }
    }
  };
  const staleAfter = (e: Entry): number => opts.staleAfterMs ?? 3 * (e.latest.intervalMs > 0 ? e.latest.intervalMs : DEFAULT_INTERVAL_MS);

  const sweep = (): void => {
    const t = now();
    for (const e of [...entries.values()]) {
      const silent = t - e.receivedAt;
      const limit = staleAfter(e);
      if (silent > limit + windowMs) {
        entries.delete(e.name);
        continue;
      }
      if (!e.stale && silent > limit) {
        e.stale = true;
        emit({ type: "stale", node: e.name });
      }
    }
  };
  const view = (e: Entry): NodeView => ({ name: e.name, latest: e.latest, receivedAt: e.receivedAt, stale: e.stale });

  const push = (stats: NodeStats): void => {
    const name = stats.node?.name;
    if (!name) throw gomsError("GOMS_ERR_BAD_FIELD", { field: "NodeStats.node.name", problem: "required" });
    let e = entries.get(name);
    // Checked before anything is kept: the cheap count first, then the encoded size.
    if (e === undefined && entries.isFull) throw gomsError("GOMS_ERR_MONITOR_TOO_MANY_NODES", { node: cut(name), limit: limits.maxNodes });
    if (stats.methods.length > limits.maxMethodsPerNode) throw gomsError("GOMS_ERR_MONITOR_TOO_MANY_METHODS", { node: cut(name), methods: stats.methods.length, limit: limits.maxMethodsPerNode });
    const ejected = stats.outliers?.ejected.length ?? 0;
    if (ejected > limits.maxEjectedPerNode) throw gomsError("GOMS_ERR_MONITOR_TOO_MANY_PEERS", { node: cut(name), peers: ejected, limit: limits.maxEjectedPerNode });
    const bytes = statsCodec.encode(stats).length;
    if (bytes > limits.maxStatsBytes) throw gomsError("GOMS_ERR_MONITOR_STATS_TOO_LARGE", { node: cut(name), bytes, limit: limits.maxStatsBytes });
    const t = now();
    const prev = e?.latest;
    const point = seriesPoint(stats, prev, t);
    if (e === undefined) {
      e = { name, latest: stats, receivedAt: t, stale: false, series: new Ring(capacity) };
      entries.set(name, e);
    } else {
      e.latest = stats;
      e.receivedAt = t;
      if (e.stale) {
        e.stale = false;
        emit({ type: "fresh", node: name });
      }
    }
    e.series.push(point);
    emit({ type: "stats", node: name, point });
  };

  const sweepMs = opts.sweepMs ?? 1000;
  const timer = sweepMs > 0 ? setInterval(sweep, sweepMs) : undefined;
  timer?.unref();

  return {
    push,
    sweep,
    nodes(): NodeView[] {
      sweep();
      return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(view);
    },
    node(name: string): NodeView | undefined {
      sweep();
      const e = entries.get(name);
      return e === undefined ? undefined : view(e);
    },
    series(name: string): SeriesPoint[] {
      const e = entries.get(name);
      if (e === undefined) return [];
      const from = now() - windowMs;
      return e.series.toArray((p) => p.t >= from);
    },
    subscribe(fn: (ev: MonitorEvent) => void): () => void {
      subscribers.add(fn);
      return () => {
        subscribers.delete(fn);
      };
    },
    service(): ServiceImpl<typeof MonitorService> {
      return {
        push(req, ctx) {
          const stats = req.stats;
          if (stats?.node === undefined) throw gomsError("GOMS_ERR_BAD_FIELD", { field: "PushRequest.stats.node", problem: "required" });
          checkPushIdentity(stats.node, ctx.peer, opts.registered);
          push(stats);
          return { intervalMs: opts.pushIntervalMs ?? 0 };
        },
      };
    },
    close(): void {
      if (timer !== undefined) clearInterval(timer);
      subscribers.clear();
    },
  };
}
