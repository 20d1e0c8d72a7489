import type { NodeStats } from "../gen/goms/v1/monitor_pb.js";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { MonitorStoreView, NodeView } from "../monitor/store-types.js";
import type { GomsNode } from "../rpc/index.js";
import type { AdmissionSummary, HedgeSummary, NodeSummary, OutlierSummary, StreamSummary } from "./api-types.js";

export type { NodeSummary };

const HIDDEN_PREFIX = "goms.v1.";

function userServices(id: NodeIdentity | undefined): string[] {
  return (id?.services ?? []).filter((s) => !s.startsWith(HIDDEN_PREFIX));
}

/** See NodeSummary.program. */
export function programOf(name: string, type: string): string {
  if (type !== "") return type;
  const m = /^(.+)-\d+$/.exec(name) ?? /^(.*\D)\d+$/.exec(name);
  return m?.[1] ?? name;
}

function admissionOf(s: NodeStats): AdmissionSummary | undefined {
  const a = s.admission;
  if (a === undefined) return undefined;
  const admitted = Number(a.admitted);
  return {
    limit: a.limit,
    inflight: a.inflight,
    admitted,
    refusedLimit: Number(a.refusedLimit),
    refusedDeadline: Number(a.refusedDeadline),
    meanQueueMs: admitted > 0 ? a.queueMsTotal / admitted : 0,
  };
}

function outliersOf(s: NodeStats): OutlierSummary | undefined {
  const o = s.outliers;
  if (o === undefined) return undefined;
  return { ejectedNow: o.ejectedNow, ejections: Number(o.ejections), ejected: o.ejected.map((p) => ({ node: p.node, state: p.state, reason: p.reason })) };
}

function hedgesOf(s: NodeStats): HedgeSummary | undefined {
  const h = s.hedges;
  return h === undefined ? undefined : { sent: Number(h.sent), won: Number(h.won), refused: Number(h.refused), rescued: Number(h.rescued) };
}

function streamsOf(s: NodeStats): StreamSummary | undefined {
  const t = s.streams;
  return t === undefined ? undefined : { opened: Number(t.opened), sent: Number(t.sent), received: Number(t.received), windowWaits: Number(t.windowWaits) };
}

function fromView(v: NodeView, store: MonitorStoreView, registered: NodeIdentity | undefined): NodeSummary {
  const id = v.latest.node ?? registered;
  const series = store.series(v.name);
  return {
    name: v.name,
    id: id?.id ?? 0,
    type: id?.type ?? "",
    region: id?.region ?? 0,
    set: id?.set ?? "",
    address: id ? `${id.host}:${id.port}` : "",
    services: userServices(id),
    registered: registered !== undefined,
    monitored: true,
    stale: v.stale,
    receivedAt: v.receivedAt,
    uptimeMs: Number(v.latest.uptimeMs),
    latest: series[series.length - 1],
    callsInFlight: v.latest.callsInFlight,
    serverConnections: v.latest.serverConnections,
    program: programOf(v.name, id?.type ?? ""),
    admission: admissionOf(v.latest),
    outliers: outliersOf(v.latest),
    hedges: hedgesOf(v.latest),
    streams: streamsOf(v.latest),
  };
}

/** Every node known to the monitor or the registry (this admin node excluded), sorted by name. */
export function nodeSummaries(node: GomsNode, store: MonitorStoreView): NodeSummary[] {
  const discovered = node.discovered();
  const out = new Map<string, NodeSummary>();
  for (const v of store.nodes()) out.set(v.name, fromView(v, store, discovered.get(v.name)?.node));
  for (const [name, reg] of discovered) {
    if (out.has(name) || reg.node === undefined) continue;
    const id = reg.node;
    out.set(name, {
      name,
      id: id.id,
      type: id.type,
      region: id.region,
      set: id.set,
      address: `${id.host}:${id.port}`,
      services: userServices(id),
      registered: true,
      monitored: false,
      stale: false,
      receivedAt: 0,
      uptimeMs: 0,
      latest: undefined,
      callsInFlight: 0,
      serverConnections: 0,
      program: programOf(name, id.type),
      admission: undefined,
      outliers: undefined,
      hedges: undefined,
      streams: undefined,
    });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}
