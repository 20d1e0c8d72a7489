/**
 * The `gateway` suite: autocannon (in this process) against
 * - "gateway": gateway and goms DB node in one process, RPC over loopback TCP (DB.Query echo),
 * - "gateway-2p": the same with the DB node in a second process, and
 * - "bare": a bare node:http JSON echo process,
 * same body, same connection count, rounds alternating the order. Reports QPS,
 * p50/p99 and the gateway/bare ratio (target >= 0.6x).
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { markdownTable } from "../lib/table.js";

export interface GatewayBenchOptions {
  rounds: number;
  connections: number[];
  warmupMs: number;
  durationMs: number;
  json: string | undefined;
  verbose: boolean;
  argv: string[];
}

/** bare: node:http echo; gateway: gateway + DB node in one process (TCP between them); gateway-2p: DB node in its own process. */
export const GATEWAY_TARGET_NAMES = ["bare", "gateway", "gateway-2p"] as const;
type TargetName = (typeof GATEWAY_TARGET_NAMES)[number];

const here = path.dirname(fileURLToPath(import.meta.url));
const BODY = '{"key":"1234567890abcdef"}';
const EXPECT = '{"value":"1234567890abcdef"}';

interface Sample {
  target: TargetName;
  round: number;
  connections: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function start(module: string, env: Record<string, string>, verbose: boolean): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(path.join(here, "../targets/gateway", module), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", verbose ? "inherit" : "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${module} did not start`)), 30_000);
    proc.once("message", (m: unknown) => {
      clearTimeout(t);
      resolve({ proc, port: (m as { port: number }).port });
    });
    proc.once("exit", (code) => reject(new Error(`${module} exited with ${String(code)}`)));
  });
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    const t = setTimeout(() => p.kill("SIGKILL"), 3000);
    p.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    p.disconnect();
  });
}

async function check(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/DB/Query`, { method: "POST", body: BODY, headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (res.status !== 200 || text !== EXPECT) throw new Error(`unexpected answer ${res.status} ${text}`);
}

async function measure(port: number, connections: number, warmupMs: number, durationMs: number): Promise<Omit<Sample, "target" | "round">> {
  const opts = { url: `http://127.0.0.1:${port}/api/DB/Query`, method: "POST", body: BODY, headers: { "content-type": "application/json" }, connections };
  await autocannon({ ...opts, duration: warmupMs / 1000 });
  const r = await autocannon({ ...opts, duration: durationMs / 1000 });
  return { connections, qps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function runTarget(target: TargetName, round: number, o: GatewayBenchOptions): Promise<Sample[]> {
  const procs: ChildProcess[] = [];
  try {
    let port: number;
    if (target === "bare") {
      const b = await start("bare.ts", {}, o.verbose);
      procs.push(b.proc);
      port = b.port;
    } else if (target === "gateway") {
      const gw = await start("gateway.ts", {}, o.verbose);
      procs.push(gw.proc);
      port = gw.port;
    } else {
      const db = await start("db.ts", {}, o.verbose);
      procs.push(db.proc);
      const gw = await start("gateway.ts", { BENCH_DB_PORT: String(db.port) }, o.verbose);
      procs.push(gw.proc);
      port = gw.port;
    }
    await check(port);
    const out: Sample[] = [];
    for (const c of o.connections) {
      const s = await measure(port, c, o.warmupMs, o.durationMs);
      log(`  round ${round} ${target.padEnd(10)} c=${c}: ${fmtInt(s.qps)} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, errors ${s.errors}, non-2xx ${s.non2xx}`);
      out.push({ target, round, ...s });
    }
    return out;
  } finally {
    await Promise.all(procs.reverse().map(stop));
  }
}

export async function runGatewaySuite(o: GatewayBenchOptions): Promise<number> {
  const samples: Sample[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order: TargetName[] = round % 2 === 1 ? ["bare", "gateway", "gateway-2p"] : ["gateway-2p", "gateway", "bare"];
    for (const t of order) samples.push(...(await runTarget(t, round, o)));
  }
  const lines: string[] = [];
  lines.push(`Command: \`${o.argv.length === 0 ? "npm run bench -- gateway" : `npm run bench -- ${o.argv.join(" ")}`}\``);
  lines.push(`Node ${process.version}; ${o.rounds} round(s), warmup ${o.warmupMs} ms, window ${o.durationMs} ms, medians over rounds; body ${BODY}`);
  for (const c of o.connections) {
    const rows: string[][] = [];
    const med = (t: TargetName, f: (s: Sample) => number): number => median(samples.filter((s) => s.target === t && s.connections === c).map(f));
    for (const t of GATEWAY_TARGET_NAMES) {
      rows.push([t, fmtInt(med(t, (s) => s.qps)), fmtNum(med(t, (s) => s.p50Ms), 0), fmtNum(med(t, (s) => s.p99Ms), 0), fmtInt(med(t, (s) => s.errors + s.non2xx))]);
    }
    lines.push("", `**${c} connections**`, "", markdownTable(["target", "QPS", "p50 ms", "p99 ms", "errors"], rows));
    for (const t of ["gateway", "gateway-2p"] as const) {
      const ratios = [];
      for (let r = 1; r <= o.rounds; r++) {
        const g = samples.find((s) => s.target === t && s.round === r && s.connections === c);
        const b = samples.find((s) => s.target === "bare" && s.round === r && s.connections === c);
        if (g && b) ratios.push(g.qps / b.qps);
      }
      const ratio = median(ratios);
      lines.push("", `${t} / bare QPS (median of same-round ratios): **${fmtRatio(ratio)}** (target >= 0.60x: ${ratio >= 0.6 ? "met" : "NOT met"})`);
    }
  }
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ suite: "gateway", options: o, samples }, null, 2));
  return samples.some((s) => s.errors > 0 || s.non2xx > 0) ? 1 : 0;
}
