/**
 * Scaling over the cores of one machine, through the real commands:
 * - `rpc --instances 1,2`: `goms run bench/targets/scaling/echo-server.ts --instances N`,
 *   loaded by N client processes (bench/targets/scaling/echo-client.ts), each with
 *   every instance as a peer;
 * - `gateway --workers 1,2`: `goms gateway --workers N` in front of one backend
 *   node (bench/targets/gateway/db.ts), loaded by autocannon in this process.
 * The load generators run on the same machine and compete for its cores with
 * what they measure: docs/benchmarks.md says how to read the curve.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { getFreePort } from "../lib/proc.js";
import { fmtInt, fmtNum, fmtRatio } from "../lib/stats.js";
import { markdownTable } from "../lib/table.js";
import { startGatewayTarget, stopGatewayTarget } from "./gateway.js";

export interface ScalingOptions {
  counts: number[];
  /** rpc: calls in flight per client process; gateway: autocannon connections. */
  level: number;
  warmupMs: number;
  durationMs: number;
  verbose: boolean;
  argv: string[];
}

interface Point {
  n: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(repo, "dist/cli/main.js");

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Runs the goms CLI until `ready(output)` holds. */
async function startCli(args: string[], ready: (out: string) => boolean, verbose: boolean): Promise<{ proc: ChildProcess; out: () => string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (verbose) process.stderr.write(d);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const deadline = Date.now() + 60_000;
  while (!ready(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`goms ${args.join(" ")} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, out: () => out };
}

/** SIGTERM (the command drains its instances or workers), SIGKILL after 10 s. */
function stopCli(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    p.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    p.kill("SIGTERM");
  });
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function runClient(ports: number[], o: ScalingOptions): Promise<{ calls: number; ms: number; latenciesMs: number[] }> {
  const args = ["--import", "tsx", path.join(repo, "bench/targets/scaling/echo-client.ts"), ports.join(","), String(o.level), String(o.warmupMs), String(o.durationMs)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`echo client exited with ${String(code)}: ${out}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as { calls: number; ms: number; latenciesMs: number[] });
    });
  });
}

async function rpcPoint(n: number, o: ScalingOptions): Promise<Point> {
  const cli = await startCli(["run", "bench/targets/scaling/echo-server.ts", "--instances", String(n), "--port", "0", "--grace", "1000"], (out) => (out.match(/listening on \d+/g) ?? []).length >= n, o.verbose);
  try {
    const ports = [...cli.out().matchAll(/listening on (\d+)/g)].map((m) => Number(m[1]));
    const results = await Promise.all(Array.from({ length: n }, () => runClient(ports, o)));
    const lat = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
    return { n, qps: results.reduce((s, r) => s + (r.calls * 1000) / r.ms, 0), p50Ms: percentile(lat, 0.5), p99Ms: percentile(lat, 0.99) };
  } finally {
    await stopCli(cli.proc);
  }
}

async function gatewayPoint(n: number, dbPort: number, o: ScalingOptions): Promise<Point> {
  const port = await getFreePort();
  const cli = await startCli(["gateway", "--workers", String(n), "--port", String(port), "--peer", `127.0.0.1:${dbPort}`], (out) => (out.match(/gateway \S+ on http/g) ?? []).length >= n, o.verbose);
  try {
    const opts = { url: `http://127.0.0.1:${port}/api/DB/Query`, method: "POST" as const, body: '{"key":"1234567890abcdef"}', headers: { "content-type": "application/json" }, connections: o.level };
    await autocannon({ ...opts, duration: o.warmupMs / 1000 });
    const r = await autocannon({ ...opts, duration: o.durationMs / 1000 });
    if (r.errors + r.timeouts + r.non2xx > 0) throw new Error(`gateway --workers ${n}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
    return { n, qps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99 };
  } finally {
    await stopCli(cli.proc);
  }
}

function report(title: string, what: string, points: Point[], o: ScalingOptions): void {
  const base = points[0];
  const rows = points.map((p) => [String(p.n), fmtInt(p.qps), fmtNum(p.p50Ms, 1), fmtNum(p.p99Ms, 1), base === undefined ? "n/a" : fmtRatio(p.qps / base.qps)]);
  const lines = [
    `Command: \`npm run bench -- ${o.argv.join(" ")}\``,
    `Node ${process.version}; warmup ${o.warmupMs} ms, window ${o.durationMs} ms; ${what}`,
    "",
    markdownTable([title, "QPS", "p50 ms", "p99 ms", `vs ${base?.n ?? "?"}`], rows),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

export async function runRpcScaling(o: ScalingOptions): Promise<number> {
  const points: Point[] = [];
  for (const n of o.counts) {
    const p = await rpcPoint(n, o);
    log(`  instances=${n}: ${fmtInt(p.qps)} calls/s, p50 ${fmtNum(p.p50Ms, 2)} ms, p99 ${fmtNum(p.p99Ms, 2)} ms`);
    points.push(p);
  }
  report("instances", `N server instances (goms run) and N client processes, ${o.level} calls in flight each, 581-byte BenchmarkMessage echo`, points, o);
  return 0;
}

export async function runGatewayScaling(o: ScalingOptions): Promise<number> {
  const db = await startGatewayTarget("db.ts", {}, o.verbose);
  try {
    const points: Point[] = [];
    for (const n of o.counts) {
      const p = await gatewayPoint(n, db.port, o);
      log(`  workers=${n}: ${fmtInt(p.qps)} req/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms`);
      points.push(p);
    }
    report("workers", `goms gateway --workers N in front of one backend node, autocannon with ${o.level} connections, POST /api/DB/Query (small body)`, points, o);
    return 0;
  } finally {
    await stopGatewayTarget(db.proc);
  }
}
