/**
 * The `stream` suite: server-streaming throughput (messages per second of the
 * 581-byte BenchmarkMessage) for goms, grpc-js and raw-codec (a socket and the
 * same codec, no flow control), and bidi ping-pong latency for goms and
 * grpc-js. Each target runs as a server process and a client process, like
 * the rpc suite (whose round runner this reuses); rounds rotate the target
 * order and ratios are medians of same-round ratios.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { assertPayloadSizes } from "../lib/payload.js";
import { installCleanupHooks } from "../lib/proc.js";
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { check, markdownTable, targetsSection, type Check } from "../lib/table.js";
import type { TargetDef } from "../lib/targets.js";
import type { StreamMode } from "../lib/stream-load.js";
import type { LevelResult, RpcOptions } from "./rpc.js";
import { MIXED_TARGET_NAMES, runMixedPart } from "./stream-mixed.js";
import { SSE_TARGET_NAMES, runSsePart } from "./stream-sse.js";
import { runStallPart } from "./stream-stall.js";
import { runRounds, sameRoundRatio, type PartOutput } from "./stream-part.js";

/** The rpc suite's options; `levels` is the number of server streams open at once in the throughput part. */
export type StreamOptions = RpcOptions & {
  /** How long the stalled-reader part's reader holds back, ms. */
  stallMs?: number;
};

export const STREAM_TARGET_NAMES = ["raw-codec", "grpc", "goms", "goms-noctx", "goms-sync", "grpc-nodrain", ...MIXED_TARGET_NAMES, ...SSE_TARGET_NAMES] as const;
/** Goals from the issue: goms's messages/s against grpc-js and against raw-codec. */
const GRPC_GOAL = 10;
const RAW_CODEC_GOAL = 0.8;

function def(name: string, mode: StreamMode, server: string, client: string, description: string, env: Record<string, string> = {}): TargetDef {
  return { name, description, ports: 1, profile: name !== "grpc", modules: { server, client }, env: { BENCH_STREAM_MODE: mode, ...env } };
}

const THROUGHPUT: readonly TargetDef[] = [
  def("raw-codec", "throughput", "raw-codec/stream-server", "raw-codec/stream-client", "length-prefixed frames on a socket per stream, goms's codec, 32 frames per write"),
  def("grpc", "throughput", "grpc/server", "grpc/stream-client", "@grpc/grpc-js server streaming, write() with drain"),
  def("goms", "throughput", "goms/server", "goms/stream-client", "goms server stream: async generator -> for await"),
  // On Node 20 AsyncLocalStorage (what carries a handler's deadline to its nested calls) puts
  // promise hooks on every promise in the process: this row shows what that costs a stream.
  def("goms-noctx", "throughput", "goms/server", "goms/stream-client", "goms as above, both nodes with calls.inheritContext: false (no AsyncLocalStorage)", { GOMS_BENCH_INHERIT_CONTEXT: "0" }),
  // The same stream from a function* handler (messages at hand): no promise per message, so no promise hooks either.
  def("goms-sync", "throughput", "goms/server", "goms/stream-client", "goms as goms, the handler a function* instead of an async generator (context on)", { GOMS_BENCH_SYNC_STREAM: "1" }),
];
const PINGPONG: readonly TargetDef[] = [
  def("grpc", "pingpong", "grpc/server", "grpc/stream-client", "@grpc/grpc-js bidi, one write per answer"),
  def("goms", "pingpong", "goms/server", "goms/stream-client", "goms bidi: push a message, await the answer"),
];

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

interface Part {
  mode: StreamMode;
  defs: TargetDef[];
  levels: number[];
  results: LevelResult[];
}

type Metric = "qps" | "p50Us" | "p99Us" | "clientCpuUsPerCall" | "serverCpuUsPerCall";

export async function runStreamSuite(opts: StreamOptions): Promise<number> {
  installCleanupHooks();
  assertPayloadSizes();
  const pick = (defs: readonly TargetDef[]): TargetDef[] => defs.filter((d) => opts.targets.includes(d.name));
  const parts: Part[] = [
    { mode: "throughput", defs: pick(THROUGHPUT), levels: opts.levels, results: [] },
    { mode: "pingpong", defs: pick(PINGPONG), levels: [1], results: [] },
  ];
  const started = new Date();
  log(
    `goms bench stream: targets ${opts.targets.join(",")}; streams ${opts.levels.join(",")}; ${opts.rounds} round(s); ` +
      `warmup ${opts.warmupMs} ms, window ${opts.durationMs} ms; node ${process.version}, ${os.cpus().length} CPUs`,
  );
  const skipped = new Map<string, string>();
  const failures: Array<{ target: string; round: number; error: string }> = [];
  for (const part of parts) {
    const r = await runRounds(part.mode, part.defs, part.levels, opts);
    part.results.push(...r.results);
    for (const [k, v] of r.skipped) skipped.set(k, v);
    failures.push(...r.failures);
  }
  // The parts with processes of their own (stream-part.ts), in the order they print.
  const extras: PartOutput[] = [];
  const stallMs = opts.stallMs ?? 10_000;
  for (const runPart of [runSsePart, (o: StreamOptions) => runStallPart({ ...o, stallMs }), runMixedPart]) {
    const p = await runPart(opts);
    if (p === undefined) continue;
    extras.push(p);
    failures.push(...p.failures);
  }

  const of = (part: Part, target: string, level: number): LevelResult[] => part.results.filter((r) => r.target === target && r.level === level);
  const med = (part: Part, target: string, level: number, m: Metric): number => median(of(part, target, level).map((r) => r[m]));
  const ratio = (part: Part, a: string, b: string, level: number, m: (r: LevelResult) => number): number => sameRoundRatio(part.results, opts.rounds, a, b, level, m);
  const cpu = (r: LevelResult): number => r.clientCpuUsPerCall + r.serverCpuUsPerCall;
  const cell = (part: Part, d: TargetDef, level: number, cols: Metric[]): string[] => {
    const reason = skipped.get(`${part.mode} ${d.name}`);
    if (reason !== undefined) return [d.name, "skipped", ...cols.slice(1).map(() => "")];
    if (of(part, d.name, level).length === 0) return [d.name, "failed", ...cols.slice(1).map(() => "")];
    return [d.name, ...cols.map((m) => (m === "qps" || m === "p50Us" || m === "p99Us" ? fmtInt(med(part, d.name, level, m)) : fmtNum(med(part, d.name, level, m))))];
  };

  const [tp, pp] = parts as [Part, Part];
  const out: string[] = [];
  out.push("## Streams, 581-byte BenchmarkMessage, one connection per client process");
  out.push("");
  out.push(
    `${started.toISOString()} · node ${process.version} · ${os.cpus().length} CPUs · ${opts.rounds} round(s), ` +
      `rotated order · warmup ${opts.warmupMs} ms · window ${opts.durationMs} ms · medians over rounds`,
  );
  out.push(`Command: \`${opts.argv.length === 0 ? "npm run bench -- stream" : `npm run bench -- ${opts.argv.join(" ")}`}\``);
  out.push("");
  out.push("Absolute numbers drift a lot on a shared machine; compare targets within this run. CPU µs per message is the steadier figure.");
  for (const level of tp.defs.length > 0 ? tp.levels : []) {
    out.push("");
    out.push(`### Server-streaming throughput, ${level} stream${level === 1 ? "" : "s"}`);
    out.push("");
    const cols: Metric[] = ["qps", "clientCpuUsPerCall", "serverCpuUsPerCall"];
    out.push(markdownTable(["target", "messages/s", "client µs CPU/msg", "server µs CPU/msg"], tp.defs.map((d) => cell(tp, d, level, cols))));
  }
  if (pp.defs.length > 0) {
    out.push("");
    out.push("### Bidi ping-pong, one message in flight");
    out.push("");
    const ppCols: Metric[] = ["qps", "p50Us", "p99Us", "clientCpuUsPerCall", "serverCpuUsPerCall"];
    out.push(markdownTable(["target", "round trips/s", "p50 µs", "p99 µs", "client µs CPU/msg", "server µs CPU/msg"], pp.defs.map((d) => cell(pp, d, 1, ppCols))));
  }
  for (const [name, reason] of skipped) out.push(`\n${name} skipped: ${reason}`);

  const ratios: Record<string, number> = {};
  const checks: Check[] = [];
  out.push("");
  out.push("### Ratios (median of same-round ratios)");
  out.push("");
  const gomsRan = tp.results.some((r) => r.target === "goms");
  if (tp.defs.length === 0) {
    out.push("n/a: the throughput part did not run");
  } else if (!gomsRan) {
    out.push("n/a: goms did not run");
  } else {
    const rows: string[][] = [];
    /** A table row of same-round ratios a/b of `m`, one per stream count, each recorded as `key streams=N` (and checked when `goal` is given). */
    const ratioRow = (label: string, a: string, b: string, m: (r: LevelResult) => number, key: string, goal?: { min: number; name: string }): void => {
      rows.push([
        label,
        ...tp.levels.map((l) => {
          const v = ratio(tp, a, b, l, m);
          ratios[`${key} streams=${l}`] = v;
          if (goal !== undefined) checks.push(check(`${l} stream${l === 1 ? "" : "s"}: ${goal.name}`, v, goal.min, fmtRatio));
          return fmtRatio(v);
        }),
      ]);
    };
    for (const [peer, goal] of [["grpc", GRPC_GOAL], ["raw-codec", RAW_CODEC_GOAL]] as const) {
      if (!opts.targets.includes(peer)) continue;
      ratioRow(`goms/${peer} messages/s (goal >= ${fmtRatio(goal)})`, "goms", peer, (r) => r.qps, `goms/${peer} msg/s`, {
        min: goal,
        name: `goms messages/s >= ${fmtRatio(goal)} ${peer}`,
      });
      ratioRow(`${peer}/goms CPU per message (both processes)`, peer, "goms", cpu, `${peer}/goms cpu per msg`);
    }
    if (opts.targets.includes("raw-codec") && opts.targets.includes("grpc")) {
      // The floor against the peer: no protobuf stream with ids, windows and cancellation can beat raw-codec,
      // so this row is the most the goms/grpc goal could read in this run.
      ratioRow("raw-codec/grpc messages/s (the ceiling for goms/grpc)", "raw-codec", "grpc", (r) => r.qps, "raw-codec/grpc msg/s");
    }
    if (opts.targets.includes("raw-codec") && tp.results.some((r) => r.target === "goms-noctx")) {
      // No goal of its own: the defaults are what the goals judge. It shows what inheritContext costs.
      ratioRow("goms-noctx/raw-codec messages/s (inheritContext off)", "goms-noctx", "raw-codec", (r) => r.qps, "goms-noctx/raw-codec msg/s");
    }
    if (opts.targets.includes("raw-codec") && tp.results.some((r) => r.target === "goms-sync")) {
      ratioRow("goms-sync/raw-codec messages/s (function* handler)", "goms-sync", "raw-codec", (r) => r.qps, "goms-sync/raw-codec msg/s");
    }
    out.push(markdownTable(["ratio", ...tp.levels.map((l) => `${l} stream${l === 1 ? "" : "s"}`)], rows));
    if (pp.results.some((r) => r.target === "goms") && opts.targets.includes("grpc")) {
      const p50 = ratio(pp, "grpc", "goms", 1, (r) => r.p50Us);
      const p99 = ratio(pp, "grpc", "goms", 1, (r) => r.p99Us);
      ratios["grpc/goms ping-pong p50"] = p50;
      ratios["grpc/goms ping-pong p99"] = p99;
      out.push("");
      out.push(`Ping-pong: grpc-js p50 / goms p50 = ${fmtRatio(p50)}, p99 = ${fmtRatio(p99)}.`);
    }
  }
  for (const p of extras) {
    out.push("", ...p.lines);
    Object.assign(ratios, p.ratios);
    checks.push(...p.checks);
  }
  out.push(...targetsSection(checks, "not evaluated (needs goms plus grpc or raw-codec)"));
  if (failures.length > 0) {
    out.push("");
    out.push("### Failures");
    out.push("");
    for (const f of failures) out.push(`- ${f.target}, round ${f.round + 1}: ${f.error.split("\n")[0] ?? ""}`);
  }
  for (const r of [...tp.results, ...pp.results].filter((x) => x.errors > 0 || !x.drained)) {
    out.push(`- note: ${r.target} level ${r.level} round ${r.round + 1}: ${r.errors} errors${r.drained ? "" : ", did not drain"}${r.firstError !== undefined ? ` (${r.firstError})` : ""}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);

  if (opts.json !== undefined) {
    const doc = {
      suite: "stream",
      date: started.toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      config: { rounds: opts.rounds, streams: opts.levels, targets: opts.targets, warmupMs: opts.warmupMs, durationMs: opts.durationMs, stallMs },
      throughput: tp.results,
      pingpong: pp.results,
      parts: extras.map((p) => ({ section: p.lines[0], results: p.results })),
      ratios,
      checks,
      skipped: Object.fromEntries(skipped),
      failures,
    };
    const file = path.resolve(opts.json);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
    log(`wrote ${file}`);
  }
  return failures.length > 0 ? 1 : 0;
}
