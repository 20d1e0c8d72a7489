import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { MonitorService, NodeStats } from "../gen/goms/v1/monitor_pb.js";
import type { ServiceImpl } from "../rpc/types.js";
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
}

export interface MonitorStore extends MonitorStoreView {
  /** Records one push (what the Push handler does). */
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
  const entries = new Map<string, Entry>();
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
    if (!name) throw new GomsError("NodeStats.node.name is required", Code.InvalidArgument);
    const t = now();
    let e = entries.get(name);
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
        push(req) {
          if (req.stats === undefined) throw new GomsError("PushRequest.stats is required", Code.InvalidArgument);
          push(req.stats);
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
