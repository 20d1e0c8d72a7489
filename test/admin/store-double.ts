// A MonitorStoreView test double: tests push points and flip nodes stale/fresh.
import { create } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { NodeStatsSchema } from "../../src/gen/goms/v1/monitor_pb.js";
import type { MonitorEvent, MonitorStoreView, NodeView, SeriesPoint } from "../../src/monitor/store-types.js";

export class FakeStore implements MonitorStoreView {
  private readonly views = new Map<string, NodeView>();
  private readonly points = new Map<string, SeriesPoint[]>();
  private readonly subs = new Set<(ev: MonitorEvent) => void>();

  nodes(): NodeView[] {
    return [...this.views.values()];
  }
  node(name: string): NodeView | undefined {
    return this.views.get(name);
  }
  series(name: string): SeriesPoint[] {
    return this.points.get(name) ?? [];
  }
  subscribe(fn: (ev: MonitorEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  /** Records a push from `name` with the given point values. */
  push(name: string, p: Partial<SeriesPoint> = {}, identity: { host?: string; port?: number; services?: string[]; region?: number; set?: string } = {}): SeriesPoint {
    const t = p.t ?? Date.now();
    const point: SeriesPoint = { t, qps: 0, errorsPerSec: 0, p99Ms: 0, cpuPercent: 0, rssBytes: 0, eventLoopLagMs: 0, refusedPerSec: 0, admissionLimit: 0, ejectedPeers: 0, hedgesPerSec: 0, ...p };
    const prev = this.views.get(name);
    const node = prev?.latest.node ?? create(NodeIdentitySchema, { name, host: identity.host ?? "127.0.0.1", port: identity.port ?? 0, services: identity.services ?? [], region: identity.region ?? 0, set: identity.set ?? "" });
    const latest = create(NodeStatsSchema, { node, timeUnixMs: BigInt(t), uptimeMs: BigInt(60_000), intervalMs: 1000, cpuPercent: point.cpuPercent, rssBytes: BigInt(point.rssBytes) });
    const wasStale = prev?.stale ?? false;
    this.views.set(name, { name, latest, receivedAt: t, stale: false });
    const list = this.points.get(name) ?? [];
    list.push(point);
    if (list.length > 720) list.shift();
    this.points.set(name, list);
    this.emit({ type: "stats", node: name, point });
    if (wasStale) this.emit({ type: "fresh", node: name });
    return point;
  }

  setStale(name: string): void {
    const v = this.views.get(name);
    if (!v || v.stale) return;
    v.stale = true;
    this.emit({ type: "stale", node: name });
  }

  private emit(ev: MonitorEvent): void {
    for (const fn of this.subs) fn(ev);
  }
}
