/**
 * The stream suite's "unary beside a busy stream" part: closed-loop unary
 * echo calls of the 581-byte message, alone and on a connection that also
 * carries one server stream read as fast as the client can. The issue asks
 * that a stream not slow the unary calls sharing its connection (a stream
 * yields to small frames); this part shows what the calls' p50 and p99 become.
 * goms only: the question is about goms's own scheduling of one connection.
 */
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { markdownTable } from "../lib/table.js";
import type { TargetDef } from "../lib/targets.js";
import type { LevelResult } from "./rpc.js";
import type { StreamOptions } from "./stream.js";
import { runRounds, sameRoundRatio, type PartOutput } from "./stream-part.js";

export const MIXED_TARGET_NAMES = ["goms-unary", "goms-unary+stream", "goms-unary+stream-apart"] as const;

/** Unary calls in flight: one (the latency of a lone caller) and a few. */
export const MIXED_LEVELS = [1, 8];

/** A target of this part: the goms server and the mixed client, `stream` saying where the busy stream runs (BENCH_MIXED_STREAM). */
function def(name: string, description: string, stream?: "1" | "apart"): TargetDef {
  return {
    name,
    description,
    ports: 1,
    profile: true,
    modules: { server: "goms/server", client: "goms/mixed-client" },
    ...(stream !== undefined ? { env: { BENCH_MIXED_STREAM: stream } } : {}),
  };
}

const DEFS: readonly TargetDef[] = [
  def("goms-unary", "goms unary echo calls, nothing else on the connection"),
  def("goms-unary+stream", "the same calls while one server stream on the same connection runs flat out", "1"),
  def(
    "goms-unary+stream-apart",
    "the same calls while the same stream runs flat out on a connection of its own (a second client node in the client process)",
    "apart",
  ),
];

export async function runMixedPart(opts: StreamOptions): Promise<PartOutput | undefined> {
  const defs = DEFS.filter((d) => opts.targets.includes(d.name));
  if (defs.length === 0) return undefined;
  const { results, skipped, failures } = await runRounds("unary beside a stream", defs, MIXED_LEVELS, opts);
  const of = (target: string, level: number): LevelResult[] => results.filter((r) => r.target === target && r.level === level);
  const med = (target: string, level: number, m: (r: LevelResult) => number): number => median(of(target, level).map(m));
  const lines: string[] = ["### Unary calls beside a busy stream (one connection)", ""];
  const rows: string[][] = [];
  for (const level of MIXED_LEVELS) {
    for (const d of defs) {
      const reason = skipped.get(`unary beside a stream ${d.name}`);
      if (reason !== undefined || of(d.name, level).length === 0) {
        rows.push([d.name, String(level), reason !== undefined ? "skipped" : "failed", "", "", "", ""]);
        continue;
      }
      rows.push([
        d.name,
        String(level),
        fmtInt(med(d.name, level, (r) => r.qps)),
        fmtInt(med(d.name, level, (r) => r.p50Us)),
        fmtInt(med(d.name, level, (r) => r.p99Us)),
        fmtNum(med(d.name, level, (r) => r.clientCpuUsPerCall)),
        // The server counts echo calls and stream messages alike: the rest of its count is the stream's.
        d.name !== "goms-unary" ? fmtInt(med(d.name, level, (r) => (r.served - r.calls) / (opts.durationMs / 1000))) : "",
      ]);
    }
  }
  lines.push(markdownTable(["target", "in flight", "calls/s", "p50 µs", "p99 µs", "client µs CPU/call", "stream messages/s"], rows));
  const ratios: Record<string, number> = {};
  const has = (name: string): boolean => defs.some((d) => d.name === name);
  /** One line of same-round p50 and p99 ratios a/b at each level, recorded as `key p50|p99 inflight=N`. */
  const ratioLine = (label: string, a: string, b: string, key: string): void => {
    if (!has(a) || !has(b)) return;
    const parts: string[] = [];
    for (const level of MIXED_LEVELS) {
      const p50 = sameRoundRatio(results, opts.rounds, a, b, level, (r) => r.p50Us);
      const p99 = sameRoundRatio(results, opts.rounds, a, b, level, (r) => r.p99Us);
      ratios[`${key} p50 inflight=${level}`] = p50;
      ratios[`${key} p99 inflight=${level}`] = p99;
      parts.push(`${level} in flight: p50 ${fmtRatio(p50)}, p99 ${fmtRatio(p99)}`);
    }
    lines.push("", `${label} (same-round ratios): ${parts.join("; ")}.`);
  };
  ratioLine("With the stream / without", "goms-unary+stream", "goms-unary", "unary with/without stream");
  // What sharing the connection adds, over two busy processes: the stream on its own connection is the baseline.
  ratioLine("Stream on the same connection / on its own", "goms-unary+stream", "goms-unary+stream-apart", "unary stream shared/apart");
  ratioLine("Stream on its own connection / no stream", "goms-unary+stream-apart", "goms-unary", "unary with/without stream apart");
  return { lines, ratios, checks: [], failures, results };
}
