/**
 * The `gateway` suite: autocannon (in this process) against
 * - "gateway": gateway and a goms backend node in one process, RPC over loopback TCP,
 * - "gateway-2p": the same with the backend node in a second process, and
 * - "bare": a bare node:http JSON echo process,
 * with two bodies (BODIES: the small DB.Query request and the 1,050-byte
 * BenchmarkMessage), same connection count, rounds alternating the order. Reports
 * QPS, p50/p99 and the gateway/bare ratio per body (goal >= 0.7x).
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { BENCH_JSON_BYTES, checkEchoResponse, makeBenchJson } from "../lib/payload.js";
import { fmtInt, fmtNum, fmtRatio, median } from "../lib/stats.js";
import { markdownTable } from "../lib/table.js";

export interface GatewayBenchOptions {
  rounds: number;
  /** Names from BODIES. */
  bodies: string[];
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
/** Each target must reach this share of bare's QPS, for every body. */
const GOAL = 0.7;

interface Body {
  name: string;
  /** Gateway route; bare answers the same path the same way. */
  path: string;
  text: string;
  /** Throws unless `answer` is the expected response. */
  check(answer: string): void;
}

const SMALL = '{"key":"1234567890abcdef"}';
const BENCH = JSON.stringify(makeBenchJson());

export const BODIES: readonly Body[] = [
  {
    name: "small",
    path: "/api/DB/Query",
    text: SMALL,
    check: (answer) => {
      if (answer !== '{"value":"1234567890abcdef"}') throw new Error(`unexpected answer ${answer}`);
    },
  },
  {
    // The BenchmarkMessage as JSON: field22 (int64) as a number, which proto3 JSON accepts.
    name: "bench",
    path: "/api/BenchService/Echo",
    text: BENCH,
    check: (answer) => checkEchoResponse("gateway bench body", JSON.parse(answer)),
  },
];
export const GATEWAY_BODY_NAMES = BODIES.map((b) => b.name);

interface Sample {
  target: TargetName;
  body: string;
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

/** Forks a process of bench/targets/gateway; it reports its port over IPC. */
export function startGatewayTarget(module: string, env: Record<string, string>, verbose: boolean): Promise<{ proc: ChildProcess; port: number }> {
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

export function stopGatewayTarget(p: ChildProcess): Promise<void> {
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

async function check(port: number, body: Body): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${body.path}`, { method: "POST", body: body.text, headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${body.name}: status ${res.status} ${text}`);
  body.check(text);
}

async function measure(port: number, body: Body, connections: number, o: GatewayBenchOptions): Promise<Omit<Sample, "target" | "round" | "body">> {
  const opts = { url: `http://127.0.0.1:${port}${body.path}`, method: "POST", body: body.text, headers: { "content-type": "application/json" }, connections };
  await autocannon({ ...opts, duration: o.warmupMs / 1000 });
  const r = await autocannon({ ...opts, duration: o.durationMs / 1000 });
  return { connections, qps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function runTarget(target: TargetName, round: number, bodies: readonly Body[], o: GatewayBenchOptions): Promise<Sample[]> {
  const procs: ChildProcess[] = [];
  try {
    let port: number;
    if (target === "bare") {
      const b = await startGatewayTarget("bare.ts", {}, o.verbose);
      procs.push(b.proc);
      port = b.port;
    } else if (target === "gateway") {
      const gw = await startGatewayTarget("gateway.ts", {}, o.verbose);
      procs.push(gw.proc);
      port = gw.port;
    } else {
      const db = await startGatewayTarget("db.ts", {}, o.verbose);
      procs.push(db.proc);
      const gw = await startGatewayTarget("gateway.ts", { BENCH_DB_PORT: String(db.port) }, o.verbose);
      procs.push(gw.proc);
      port = gw.port;
    }
    for (const b of bodies) await check(port, b);
    const out: Sample[] = [];
    for (const b of bodies) {
      for (const c of o.connections) {
        const s = await measure(port, b, c, o);
        log(
          `  round ${round} ${target.padEnd(10)} ${b.name.padEnd(5)} c=${c}: ${fmtInt(s.qps)} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ` +
            `errors ${s.errors}, non-2xx ${s.non2xx}`,
        );
        out.push({ target, round, body: b.name, ...s });
      }
    }
    return out;
  } finally {
    await Promise.all(procs.reverse().map(stopGatewayTarget));
  }
}

export async function runGatewaySuite(o: GatewayBenchOptions): Promise<number> {
  const bodies = o.bodies.map((name) => {
    const b = BODIES.find((x) => x.name === name);
    if (b === undefined) throw new Error(`unknown body ${name}; available: ${GATEWAY_BODY_NAMES.join(", ")}`);
    return b;
  });
  const benchBytes = Buffer.byteLength(BENCH);
  if (benchBytes !== BENCH_JSON_BYTES) throw new Error(`bench body is ${benchBytes} B, expected ${BENCH_JSON_BYTES}`);
  const samples: Sample[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order: TargetName[] = round % 2 === 1 ? ["bare", "gateway", "gateway-2p"] : ["gateway-2p", "gateway", "bare"];
    for (const t of order) samples.push(...(await runTarget(t, round, bodies, o)));
  }
  const lines: string[] = [];
  lines.push(`Command: \`${o.argv.length === 0 ? "npm run bench -- gateway" : `npm run bench -- ${o.argv.join(" ")}`}\``);
  lines.push(`Node ${process.version}; ${o.rounds} round(s), warmup ${o.warmupMs} ms, window ${o.durationMs} ms, medians over rounds`);
  const pick = (t: TargetName, b: Body, c: number): Sample[] => samples.filter((s) => s.target === t && s.body === b.name && s.connections === c);
  /** Median over rounds of the same-round t / bare QPS ratio. */
  const ratio = (t: TargetName, b: Body, c: number): number => {
    const xs: number[] = [];
    for (const g of pick(t, b, c)) {
      const bare = pick("bare", b, c).find((s) => s.round === g.round);
      if (bare !== undefined && bare.qps > 0) xs.push(g.qps / bare.qps);
    }
    return median(xs);
  };
  for (const c of o.connections) {
    for (const b of bodies) {
      const rows = GATEWAY_TARGET_NAMES.map((t) => {
        const med = (f: (s: Sample) => number): number => median(pick(t, b, c).map(f));
        return [t, fmtInt(med((s) => s.qps)), fmtNum(med((s) => s.p50Ms), 0), fmtNum(med((s) => s.p99Ms), 0), fmtInt(med((s) => s.errors + s.non2xx))];
      });
      const what = b.name === "small" ? `\`${b.text}\`` : "BenchmarkMessage as JSON";
      lines.push("", `**${c} connections, ${b.name} body** (POST ${b.path}, ${what}, ${Buffer.byteLength(b.text)} B)`, "");
      lines.push(markdownTable(["target", "QPS", "p50 ms", "p99 ms", "errors"], rows));
    }
  }
  const columns = o.connections.flatMap((c) => bodies.map((b) => ({ c, b })));
  const ratioRows = (["gateway", "gateway-2p"] as const).map((t) => [
    `${t} / bare`,
    ...columns.map(({ c, b }) => {
      const v = ratio(t, b, c);
      return `${fmtRatio(v)}${Number.isFinite(v) ? (v >= GOAL ? " met" : " NOT met") : ""}`;
    }),
  ]);
  lines.push("", `**QPS ratios** (median of same-round ratios; goal >= ${fmtRatio(GOAL)} for every body)`, "");
  lines.push(markdownTable(["ratio", ...columns.map(({ c, b }) => `${b.name} c=${c}`)], ratioRows));
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ suite: "gateway", options: o, samples }, null, 2));
  return samples.some((s) => s.errors > 0 || s.non2xx > 0) ? 1 : 0;
}
