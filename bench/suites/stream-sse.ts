/**
 * The stream suite's Gateway SSE part: messages per second of a server stream
 * read over HTTP as Server-Sent Events, through the goms gateway (a goms node
 * streaming the BenchmarkMessage over loopback TCP to a gateway node in the
 * same process, which writes each one as proto3 JSON) against a bare
 * node:http server writing the same JSON in the same events. Both share one
 * client (bench/targets/sse/client.ts: one connection per stream, events
 * counted, not parsed). What is left between the two is what the gateway
 * costs over a hand-written SSE endpoint: the RPC hop, flow control and the
 * JSON transcoding.
 */
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { makeStreamedJson } from "../lib/sse.js";
import { markdownTable } from "../lib/table.js";
import type { TargetDef } from "../lib/targets.js";
import type { LevelResult } from "./rpc.js";
import { runRounds, sameRoundRatio, type PartOutput } from "./stream-part.js";
import type { StreamOptions } from "./stream.js";

export const SSE_TARGET_NAMES = ["gateway-sse", "bare-sse"] as const;

function def(name: (typeof SSE_TARGET_NAMES)[number], server: string, description: string): TargetDef {
  return {
    name,
    description,
    ports: 1,
    profile: name === "gateway-sse",
    modules: { server, client: "sse/client" },
    env: { BENCH_STREAM_MODE: "throughput", BENCH_SSE_TARGET: name },
  };
}

const DEFS: readonly TargetDef[] = [
  def("gateway-sse", "sse/gateway-server", "goms gateway in front of a goms node (loopback TCP, one process): BenchService.Stream as SSE"),
  def("bare-sse", "sse/bare-server", "bare node:http: the same events, JSON.stringify per message, write() until false then 'drain'"),
];

type Metric = "qps" | "clientCpuUsPerCall" | "serverCpuUsPerCall";

export async function runSsePart(opts: StreamOptions): Promise<PartOutput | undefined> {
  const defs = DEFS.filter((d) => opts.targets.includes(d.name));
  if (defs.length === 0) return undefined;
  const label = "gateway SSE";
  const { results, skipped, failures } = await runRounds(label, defs, opts.levels, opts);
  const of = (target: string, level: number): LevelResult[] => results.filter((r) => r.target === target && r.level === level);
  const med = (target: string, level: number, m: Metric): number => median(of(target, level).map((r) => r[m]));

  const jsonBytes = Buffer.byteLength(JSON.stringify(makeStreamedJson()));
  const lines: string[] = [];
  lines.push(`### Gateway SSE, the BenchmarkMessage as proto3 JSON (${fmtInt(jsonBytes)} B per event), one connection per stream`);
  lines.push("");
  lines.push(
    "gateway-sse: a goms node streams the message over loopback TCP to a gateway node in the same process, which writes each one " +
      "as an SSE event; bare-sse: node:http writing the same bytes (JSON.stringify per message, back-pressure by write()/'drain'). " +
      "One client process reads both, counting events. Server CPU is the whole server process (for gateway-sse: both nodes and the gateway).",
  );
  const rows: string[][] = [];
  for (const level of opts.levels) {
    for (const d of defs) {
      const streams = String(level);
      if (skipped.has(`${label} ${d.name}`)) rows.push([d.name, streams, "skipped", "", ""]);
      else if (of(d.name, level).length === 0) rows.push([d.name, streams, "failed", "", ""]);
      else {
        rows.push([
          d.name,
          streams,
          fmtInt(med(d.name, level, "qps")),
          fmtNum(med(d.name, level, "clientCpuUsPerCall")),
          fmtNum(med(d.name, level, "serverCpuUsPerCall")),
        ]);
      }
    }
  }
  lines.push("");
  lines.push(markdownTable(["target", "streams", "messages/s", "client µs CPU/msg", "server µs CPU/msg"], rows));
  for (const [name, reason] of skipped) lines.push(`\n${name} skipped: ${reason}`);

  const ratios: Record<string, number> = {};
  if (defs.length === 2) {
    /** One row of same-round gateway-sse/bare-sse ratios of `m`, one per stream count, each recorded as `key streams=N`. */
    const row = (label: string, m: Metric, key: string): string[] => [
      label,
      ...opts.levels.map((level) => {
        const v = sameRoundRatio(results, opts.rounds, "gateway-sse", "bare-sse", level, (r) => r[m]);
        ratios[`${key} streams=${level}`] = v;
        return fmtRatio(v);
      }),
    ];
    lines.push("");
    lines.push(
      markdownTable(
        ["ratio (median of same-round ratios)", ...opts.levels.map((l) => `${l} stream${l === 1 ? "" : "s"}`)],
        [
          row("gateway-sse/bare-sse messages/s", "qps", "gateway-sse/bare-sse msg/s"),
          // The steadier figure on a shared machine: what the gateway's process spends per message against the bare writer's.
          row("gateway-sse/bare-sse server CPU per message", "serverCpuUsPerCall", "gateway-sse/bare-sse server cpu per msg"),
        ],
      ),
    );
  }
  for (const r of results.filter((x) => x.errors > 0 || !x.drained)) {
    lines.push(`- note: ${r.target} streams=${r.level} round ${r.round + 1}: ${r.errors} errors${r.drained ? "" : ", did not drain"}${r.firstError !== undefined ? ` (${r.firstError})` : ""}`);
  }
  return { lines, ratios, checks: [], failures, results };
}
