import { create } from "@bufbuild/protobuf";
import {
  AdmissionStatsSchema,
  HedgeStatsSchema,
  OutlierStatsSchema,
  StreamStatsSchema,
  type AdmissionStats,
  type HedgeStats,
  type OutlierStats,
  type StreamStats,
} from "../gen/goms/v1/monitor_pb.js";
import type { NodeCounters } from "../rpc/node.js";

/** Ejected peers one push carries at most: a caller of a thousand nodes with half ejected still pushes a small message. */
export const MAX_EJECTED_PUSHED = 64;

/** node.stats().admission as pushed to the monitor. */
export function admissionOf(n: NodeCounters): AdmissionStats {
  const a = n.admission;
  return create(AdmissionStatsSchema, {
    limit: a.limit,
    inflight: a.inflight,
    admitted: BigInt(a.admitted),
    refusedLimit: BigInt(a.refusedLimit),
    refusedDeadline: BigInt(a.refusedDeadline),
    queueMsTotal: a.queueMsTotal,
    baselineMs: a.baselineMs,
  });
}

/** node.stats().outliers as pushed: the counters, and the peers whose breaker is not closed (the rest are the normal case). */
export function outliersOf(n: NodeCounters): OutlierStats {
  const o = n.outliers;
  const ejected: { node: string; state: string; reason: string; ejections: number }[] = [];
  for (const p of o.peers) {
    if (p.state === "closed") continue;
    if (ejected.length === MAX_EJECTED_PUSHED) break;
    ejected.push({ node: p.node, state: p.state, reason: p.reason ?? "", ejections: p.ejections });
  }
  return create(OutlierStatsSchema, {
    ejectedNow: o.ejectedNow,
    ejections: BigInt(o.ejections),
    capped: BigInt(o.capped),
    probes: BigInt(o.probes),
    probesFailed: BigInt(o.probesFailed),
    ejected,
  });
}

/** node.stats().hedges as pushed: the counters (each method's delay stays on the node). */
export function hedgesOf(n: NodeCounters): HedgeStats {
  const h = n.hedges;
  return create(HedgeStatsSchema, { sent: BigInt(h.sent), won: BigInt(h.won), refused: BigInt(h.refused), rescued: BigInt(h.rescued) });
}

/** node.stats().streams as pushed. */
export function streamsOf(n: NodeCounters): StreamStats {
  const s = n.streams;
  return create(StreamStatsSchema, { opened: BigInt(s.opened), sent: BigInt(s.sent), received: BigInt(s.received), windowWaits: BigInt(s.windowWaits) });
}
