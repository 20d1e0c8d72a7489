/**
 * The `rpc` suite: each target runs as a separate server process and client process;
 * the client drives a closed loop at each in-flight level; rounds rotate the target
 * order; medians (and medians of same-round ratios) are reported.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { assertPayloadSizes } from "../lib/payload.js";
import { TargetProcess, getFreePort, installCleanupHooks, rssMb } from "../lib/proc.js";
import type { ClientStats, FromClient, FromServer, LevelSpec, TargetConfig, ToClient, ToServer } from "../lib/protocol.js";
import { errorMessage, parseFromClient, parseFromServer } from "../lib/protocol.js";
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { check, markdownTable, targetsSection, type Check } from "../lib/table.js";
import { TARGETS, targetModule, type TargetDef } from "../lib/targets.js";

export interface RpcOptions {
  rounds: number;
  levels: number[];
  targets: string[];
  warmupMs: number;
  durationMs: number;
  json: string | undefined;
  cpuProf: boolean;
  verbose: boolean;
  argv: string[];
}

export const RPC_TARGET_NAMES = TARGETS.map((t) => t.name);
const HOST = "127.0.0.1";
const MAX_CALLS = 20_000_000;
const DRAIN_MS = 5000;
const START_TIMEOUT_MS = 30_000;
const PROF_DIR = ".bench-results/prof";
/** goms against the same socket and codec without the framework: what is left is goms's own overhead. */
const RAW_CODEC_GOAL = 0.85;

export interface LevelResult {
  target: string;
  round: number;
  level: number;
  qps: number;
  p50Us: number;
  p99Us: number;
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
  calls: number;
  /** Calls (or stream messages) the server counted during the window. */
  served: number;
  errors: number;
  firstError?: string;
  drained: boolean;
  /** Both processes' RSS during the window, when RoundExtras.rssEveryMs asked for it. */
  rss?: RssSample[];
}

/** One RSS reading of a round's two processes; `ms` since the window started. */
export interface RssSample {
  ms: number;
  serverMb: number;
  clientMb: number;
}

/** What a part of a suite may ask of a round beyond the load figures. */
export interface RoundExtras {
  /** Read both processes' RSS at the window's start, every this many ms during it, and at its end. */
  rssEveryMs?: number;
  /** The window is meant to deliver nothing (a stalled reader): zero calls is a result, not a failure. */
  quietWindow?: boolean;
}

export type RoundOutcome =
  | { status: "ok"; levels: LevelResult[] }
  | { status: "skipped"; reason: string }
  | { status: "failed"; error: string; levels: LevelResult[] };

function commandLine(argv: readonly string[]): string {
  return argv.length === 0 ? "npm run bench" : `npm run bench -- ${argv.join(" ")}`;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export async function runTargetRound(def: TargetDef, round: number, opts: RpcOptions, extras: RoundExtras = {}): Promise<RoundOutcome> {
  const ports: number[] = [];
  for (let i = 0; i < def.ports; i++) ports.push(await getFreePort(HOST));
  const cfg: TargetConfig = { host: HOST, ports };
  const execArgv = ["--import", "tsx"];
  if (opts.cpuProf && def.profile) {
    mkdirSync(PROF_DIR, { recursive: true });
    execArgv.push("--cpu-prof", "--cpu-prof-dir", PROF_DIR);
  }
  const env = { ...def.env, BENCH_CONFIG: JSON.stringify(cfg) };
  const server = new TargetProcess<FromServer, ToServer>(
    { name: `${def.name}-server`, module: targetModule(def, "server"), env, execArgv, verbose: opts.verbose },
    parseFromServer,
  );
  let client: TargetProcess<FromClient, ToClient> | undefined;
  const levels: LevelResult[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const sr = await server.next(START_TIMEOUT_MS, "server ready");
    if (sr.type === "skip") return { status: "skipped", reason: sr.reason };
    if (sr.type !== "ready") throw new Error(sr.type === "error" ? `server: ${sr.message}` : `server sent ${sr.type}`);

    client = new TargetProcess<FromClient, ToClient>(
      { name: `${def.name}-client`, module: targetModule(def, "client"), env, execArgv, verbose: opts.verbose },
      parseFromClient,
    );
    const cr = await client.next(START_TIMEOUT_MS, "client ready");
    if (cr.type === "skip") return { status: "skipped", reason: cr.reason };
    if (cr.type !== "ready") throw new Error(cr.type === "error" ? `client: ${cr.message}` : `client sent ${cr.type}`);

    let snapId = 0;
    for (const level of opts.levels) {
      const spec: LevelSpec = {
        level,
        warmupMs: opts.warmupMs,
        durationMs: opts.durationMs,
        maxCalls: MAX_CALLS,
        drainMs: DRAIN_MS,
      };
      client.send({ type: "run", spec });
      const snaps: Array<{ cpuUs: number; count: number }> = [];
      const rss: RssSample[] = [];
      let windowStart = 0;
      const sample = (): void => {
        const s = server.pid === undefined ? undefined : rssMb(server.pid);
        const c = client?.pid === undefined ? undefined : rssMb(client.pid);
        if (s !== undefined && c !== undefined) rss.push({ ms: Math.round(performance.now() - windowStart), serverMb: s, clientMb: c });
      };
      let stats: ClientStats | undefined;
      const budget = spec.warmupMs + spec.durationMs + spec.drainMs + 15_000;
      while (stats === undefined) {
        const m = await client.next(budget, `c=${level} result`);
        if (m.type === "window") {
          const id = ++snapId;
          server.send({ type: "snap", id });
          const s = await server.next(5000, "server CPU snapshot");
          if (s.type !== "snap" || s.id !== id) throw new Error(`server: expected snap ${id}, got ${s.type}`);
          snaps.push({ cpuUs: s.cpuUs, count: s.count });
          if (extras.rssEveryMs !== undefined) {
            clearInterval(sampler);
            if (m.edge === "start") {
              windowStart = performance.now();
              sampler = setInterval(sample, extras.rssEveryMs);
            }
            sample();
          }
        } else if (m.type === "result") {
          stats = m.stats;
        } else if (m.type === "error") {
          throw new Error(`client: ${m.message}`);
        }
      }
      const [s0, s1] = snaps;
      const served = s0 !== undefined && s1 !== undefined ? s1.count - s0.count : 0;
      const r: LevelResult = {
        target: def.name,
        round,
        level,
        qps: stats.qps,
        p50Us: stats.p50Us,
        p99Us: stats.p99Us,
        clientCpuUsPerCall: stats.cpuUsPerCall,
        serverCpuUsPerCall: s0 !== undefined && s1 !== undefined && served > 0 ? (s1.cpuUs - s0.cpuUs) / served : Number.NaN,
        calls: stats.calls,
        served,
        errors: stats.errors,
        drained: stats.drained,
      };
      if (stats.firstError !== undefined) r.firstError = stats.firstError;
      if (extras.rssEveryMs !== undefined) r.rss = rss;
      if (stats.calls > 0 || extras.quietWindow === true) levels.push(r);
      log(
        `  round ${round + 1} ${def.name.padEnd(9)} c=${String(level).padEnd(3)} ${fmtInt(r.qps).padStart(9)} qps  ` +
          `p50 ${fmtInt(r.p50Us)} µs  p99 ${fmtInt(r.p99Us)} µs  cpu/call client ${fmtNum(r.clientCpuUsPerCall)} ` +
          `server ${fmtNum(r.serverCpuUsPerCall)} µs${r.errors > 0 ? `  errors ${r.errors}: ${r.firstError ?? ""}` : ""}`,
      );
      if (stats.calls === 0 && extras.quietWindow !== true) throw new Error(`no successful calls at c=${level}${r.firstError ? `: ${r.firstError}` : ""}`);
    }
    return { status: "ok", levels };
  } catch (e) {
    return { status: "failed", error: errorMessage(e), levels };
  } finally {
    clearInterval(sampler);
    await client?.stop({ type: "close" });
    await server.stop({ type: "close" });
  }
}

type Metric = "qps" | "p50Us" | "p99Us" | "clientCpuUsPerCall" | "serverCpuUsPerCall";

export async function runRpcSuite(opts: RpcOptions): Promise<number> {
  installCleanupHooks();
  assertPayloadSizes();
  const defs = opts.targets.map((name) => {
    const d = TARGETS.find((t) => t.name === name);
    if (d === undefined) throw new Error(`unknown target ${name}; available: ${RPC_TARGET_NAMES.join(", ")}`);
    return d;
  });
  const started = new Date();
  log(
    `goms bench rpc: targets ${opts.targets.join(",")}; levels ${opts.levels.join(",")}; ${opts.rounds} round(s); ` +
      `warmup ${opts.warmupMs} ms, window ${opts.durationMs} ms; node ${process.version}, ${os.cpus().length} CPUs`,
  );

  const results: LevelResult[] = [];
  const skipped = new Map<string, string>();
  const failures: Array<{ target: string; round: number; error: string }> = [];
  for (let round = 0; round < opts.rounds; round++) {
    const k = round % defs.length;
    const order = [...defs.slice(k), ...defs.slice(0, k)];
    log(`round ${round + 1}/${opts.rounds}: ${order.map((d) => d.name).join(" -> ")}`);
    for (const def of order) {
      if (skipped.has(def.name)) continue;
      const out = await runTargetRound(def, round, opts);
      if (out.status === "skipped") {
        skipped.set(def.name, out.reason);
        log(`  ${def.name}: skipped: ${out.reason}`);
        continue;
      }
      results.push(...out.levels);
      if (out.status === "failed") {
        failures.push({ target: def.name, round, error: out.error });
        log(`  ${def.name}: FAILED in round ${round + 1}: ${out.error}`);
      }
    }
  }

  const pick = (target: string, level: number): LevelResult[] =>
    results.filter((r) => r.target === target && r.level === level);
  const med = (target: string, level: number, m: Metric): number => median(pick(target, level).map((r) => r[m]));
  /** Median over rounds of the same-round ratio a/b. */
  const ratio = (a: string, b: string, level: number, m: Metric): number => {
    const xs: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const ra = results.find((r) => r.target === a && r.level === level && r.round === round);
      const rb = results.find((r) => r.target === b && r.level === level && r.round === round);
      if (ra !== undefined && rb !== undefined && ra[m] > 0 && rb[m] > 0) xs.push(ra[m] / rb[m]);
    }
    return median(xs);
  };

  const out: string[] = [];
  out.push(`## RPC echo, 581-byte BenchmarkMessage, one connection, closed loop`);
  out.push("");
  out.push(
    `${started.toISOString()} · node ${process.version} · ${os.cpus().length} CPUs · ${opts.rounds} round(s), ` +
      `rotated order · warmup ${opts.warmupMs} ms · window ${opts.durationMs} ms · medians over rounds`,
  );
  out.push(`Command: \`${commandLine(opts.argv)}\``);
  out.push("");
  out.push("Absolute numbers drift 30-50% between runs on a shared machine; compare targets within this run.");
  for (const level of opts.levels) {
    out.push("");
    out.push(`### ${level} in flight`);
    out.push("");
    const rows = defs.map((d) => {
      const reason = skipped.get(d.name);
      if (reason !== undefined) return [d.name, "skipped", "", "", "", ""];
      if (pick(d.name, level).length === 0) return [d.name, "failed", "", "", "", ""];
      return [
        d.name,
        fmtInt(med(d.name, level, "qps")),
        fmtInt(med(d.name, level, "p50Us")),
        fmtInt(med(d.name, level, "p99Us")),
        fmtNum(med(d.name, level, "clientCpuUsPerCall")),
        fmtNum(med(d.name, level, "serverCpuUsPerCall")),
      ];
    });
    out.push(markdownTable(["target", "QPS", "p50 µs", "p99 µs", "client µs CPU/call", "server µs CPU/call"], rows));
    for (const [name, reason] of skipped) out.push(`\n${name} skipped: ${reason}`);
  }

  // Ratios and the issue's targets: only meaningful with goms in the run.
  const ratios: Record<string, number> = {};
  const checks: Check[] = [];
  out.push("");
  out.push("### Ratios (median of same-round ratios)");
  out.push("");
  const gomsRan = opts.targets.includes("goms") && results.some((r) => r.target === "goms");
  if (!gomsRan) {
    const why = skipped.get("goms") ?? (opts.targets.includes("goms") ? "goms failed" : "goms not selected");
    out.push(`n/a: ${why}`);
  } else {
    const peers = ["raw", "raw-codec", "moleculer", "nest", "grpc"].filter((p) => opts.targets.includes(p));
    const rows = peers.map((p) => [
      `goms/${p} QPS${p === "raw-codec" ? ` (goal >= ${fmtRatio(RAW_CODEC_GOAL)})` : ""}`,
      ...opts.levels.map((l) => {
        const v = ratio("goms", p, l, "qps");
        ratios[`goms/${p} qps c=${l}`] = v;
        return fmtRatio(v);
      }),
    ]);
    if (opts.levels.includes(64) && opts.targets.includes("raw")) {
      const v = ratio("goms", "raw", 64, "p99Us");
      ratios["goms/raw p99 c=64"] = v;
      rows.push(["goms p99 / raw p99", ...opts.levels.map((l) => (l === 64 ? fmtRatio(v) : ""))]);
    }
    out.push(markdownTable(["ratio", ...opts.levels.map((l) => `c=${l}`)], rows));

    for (const l of [64, 256]) {
      if (!opts.levels.includes(l)) continue;
      if (opts.targets.includes("moleculer")) {
        checks.push(check(`c=${l}: goms QPS >= 3x moleculer`, ratio("goms", "moleculer", l, "qps"), 3, fmtRatio));
      }
      if (opts.targets.includes("raw")) {
        checks.push(check(`c=${l}: goms QPS >= 0.3x raw`, ratio("goms", "raw", l, "qps"), 0.3, fmtRatio));
      }
      if (opts.targets.includes("raw-codec")) {
        checks.push(check(`c=${l}: goms QPS >= ${fmtRatio(RAW_CODEC_GOAL)} raw-codec`, ratio("goms", "raw-codec", l, "qps"), RAW_CODEC_GOAL, fmtRatio));
      }
    }
    if (opts.levels.includes(64) && opts.targets.includes("raw")) {
      checks.push(check("c=64: goms p99 <= 3x raw p99", ratio("goms", "raw", 64, "p99Us"), 3, fmtRatio, true));
    }
  }
  out.push(...targetsSection(checks, "not evaluated (needs goms plus raw/moleculer at 64 and 256 in flight)"));
  if (failures.length > 0) {
    out.push("");
    out.push("### Failures");
    out.push("");
    for (const f of failures) out.push(`- ${f.target}, round ${f.round + 1}: ${f.error.split("\n")[0] ?? ""}`);
  }
  const errored = results.filter((r) => r.errors > 0 || !r.drained);
  if (errored.length > 0) {
    out.push("");
    for (const r of errored) {
      out.push(
        `- note: ${r.target} c=${r.level} round ${r.round + 1}: ${r.errors} errors${r.drained ? "" : ", did not drain"}` +
          `${r.firstError !== undefined ? ` (${r.firstError})` : ""}`,
      );
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);

  if (opts.json !== undefined) {
    const medians = defs.flatMap((d) =>
      opts.levels
        .filter((l) => pick(d.name, l).length > 0)
        .map((l) => ({
          target: d.name,
          level: l,
          rounds: pick(d.name, l).length,
          qps: med(d.name, l, "qps"),
          p50Us: med(d.name, l, "p50Us"),
          p99Us: med(d.name, l, "p99Us"),
          clientCpuUsPerCall: med(d.name, l, "clientCpuUsPerCall"),
          serverCpuUsPerCall: med(d.name, l, "serverCpuUsPerCall"),
        })),
    );
    const doc = {
      suite: "rpc",
      date: started.toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      command: commandLine(opts.argv),
      config: {
        rounds: opts.rounds,
        levels: opts.levels,
        targets: opts.targets,
        warmupMs: opts.warmupMs,
        durationMs: opts.durationMs,
        payloadBytes: { protobuf: 581, json: 1050 },
      },
      medians,
      ratios,
      checks,
      skipped: Object.fromEntries(skipped),
      failures,
      rounds: results,
    };
    const file = path.resolve(opts.json);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
    log(`wrote ${file}`);
  }
  return failures.length > 0 ? 1 : 0;
}
