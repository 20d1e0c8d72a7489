/**
 * The `overload` suite: one goms node whose handler costs a fixed amount of
 * CPU, and an open-loop load generator in a process of its own offering a
 * multiple of the node's measured capacity. For each offered load, with the
 * node's admission on (defaults) and off: goodput (calls that succeeded within
 * their deadline, per second), p99 of those calls, and the share refused.
 * Each (mode, load) runs against a fresh server, after a warm-up at the same
 * load (the figures are the steady state, not the onset). Both processes
 * share the machine's cores.
 *
 * Moleculer runs under the same offered load (multiples of goms's measured
 * capacity), with the same handler cost, behind its bulkhead
 * (targets/overload/moleculer.ts).
 */
import { TargetProcess, getFreePort, installCleanupHooks } from "../lib/proc.js";
import { fmtInt, fmtNum } from "../lib/stats.js";
import { markdownTable } from "../lib/table.js";
import type { LoadResult, ServerWindow } from "../targets/overload/open-loop.js";

export interface OverloadOptions {
  factors: number[];
  warmupMs: number;
  durationMs: number;
  deadlineMs: number;
  costMs: number;
  /** What to run under each load, in this order. */
  targets: Target[];
  verbose: boolean;
}

export const OVERLOAD_TARGETS = ["goms-on", "goms-off", "moleculer"] as const;

type Msg = { type: "ready" } | ({ type: "result" } & LoadResult) | { type: "stats"; admission: { limit: number }; window?: ServerWindow };

const parse = (x: unknown): Msg | undefined => (typeof x === "object" && x !== null && "type" in x ? (x as Msg) : undefined);
const EXEC = ["--import", "tsx"];
const dir = new URL("../targets/overload/", import.meta.url).pathname;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** What serves the load: a goms node with its admission on or off, or a Moleculer broker with its bulkhead. */
export type Target = (typeof OVERLOAD_TARGETS)[number];

async function runOne(target: Target, rate: number, o: OverloadOptions): Promise<LoadResult & { limit: number; window: ServerWindow | undefined }> {
  const port = await getFreePort();
  const moleculer = target === "moleculer";
  const env = {
    OVERLOAD_PORT: String(port),
    OVERLOAD_MODE: target === "goms-off" ? "off" : "on",
    OVERLOAD_COST_MS: String(o.costMs),
    OVERLOAD_WARMUP_MS: String(o.warmupMs),
    OVERLOAD_DURATION_MS: String(o.durationMs),
    ...(moleculer ? { OVERLOAD_CLIENT_PORT: String(await getFreePort()) } : {}),
  };
  const [serverModule, loadModule] = moleculer ? [`${dir}moleculer.ts`, `${dir}moleculer.ts`] : [`${dir}server.ts`, `${dir}loadgen.ts`];
  const server = new TargetProcess<Msg, { type: string }>({ name: `overload-server-${target}`, module: serverModule, env: { ...env, OVERLOAD_SIDE: "server" }, execArgv: EXEC, verbose: o.verbose }, parse);
  try {
    await server.next(30_000, "server ready");
    const gen = new TargetProcess<Msg, { type: string }>(
      {
        name: "overload-loadgen",
        module: loadModule,
        env: {
          ...env,
          OVERLOAD_SIDE: "client",
          OVERLOAD_RATE: String(Math.round(rate)),
          OVERLOAD_DEADLINE_MS: String(o.deadlineMs),
        },
        execArgv: EXEC,
        verbose: o.verbose,
      },
      parse,
    );
    const r = await gen.next(60_000 + o.warmupMs + o.durationMs, "load result");
    if (r.type !== "result") throw new Error(`unexpected message ${r.type}`);
    server.send({ type: "stats" });
    const s = await server.next(5000, "server stats");
    return { ...r, limit: s.type === "stats" ? s.admission.limit : 0, window: s.type === "stats" ? s.window : undefined };
  } finally {
    await server.stop({ type: "close" }, 2000);
  }
}

export async function runOverloadSuite(o: OverloadOptions): Promise<number> {
  installCleanupHooks();
  log(`overload: handler ${o.costMs} ms of CPU, deadline ${o.deadlineMs} ms, warm-up ${o.warmupMs} ms + ${o.durationMs} ms per load`);
  const cap = await runOne("goms-off", 0, o);
  const capacity = cap.ok / cap.seconds;
  const capCpu = cap.window?.cpu;
  log(`capacity (closed loop, 8 in flight, admission off): ${fmtInt(capacity)} calls/s, p99 ${fmtNum(cap.p99, 2)} ms`);
  const rows: string[][] = [];
  let unloadedP99 = Number.NaN;
  for (const target of o.targets) {
    for (const f of o.factors) {
      const r = await runOne(target, capacity * f, o);
      const goodput = r.ok / r.seconds;
      if (target === "goms-on" && f === Math.min(...o.factors)) unloadedP99 = r.p99;
      const row = [
        target === "moleculer" ? "moleculer, bulkhead" : `goms, admission ${target === "goms-on" ? "on" : "off"}`,
        `${f}x`,
        fmtInt(r.sent / r.seconds),
        fmtInt(goodput),
        `${fmtInt((100 * goodput) / capacity)}%`,
        fmtNum(r.p50, 2),
        fmtNum(r.p99, 2),
        `${fmtNum((100 * r.refused) / Math.max(1, r.sent), 1)}%`,
        `${fmtNum((100 * (r.timedOut + r.late)) / Math.max(1, r.sent), 1)}%`,
        target === "goms-on" ? String(r.limit) : target === "moleculer" ? `${r.limit} (fixed)` : "-",
        r.window === undefined ? "n/a" : fmtNum(r.window.cpu, 2),
        r.window === undefined || capCpu === undefined ? "n/a" : `${fmtInt((100 * goodput * capCpu) / (capacity * r.window.cpu))}%`,
      ];
      if (r.other > 0) row.push(`${r.other} other errors: ${r.firstOther}`);
      rows.push(row);
      log(row.join(" | "));
    }
  }
  process.stdout.write(
    `\ncapacity ${fmtInt(capacity)} calls/s (server CPU ${cap.window === undefined ? "n/a" : fmtNum(cap.window.cpu, 2)}); unloaded p99 (admission on, lowest load) ${fmtNum(unloadedP99, 2)} ms; target at 2x and 4x: goodput >= 90% of capacity, p99 <= ${fmtNum(3 * unloadedP99, 2)} ms\n\n`,
  );
  process.stdout.write(
    `${markdownTable(["server", "offered", "sent/s", "goodput/s", "of capacity", "p50 ms", "p99 ms", "refused", "timed out", "limit at end", "server CPU", "per CPU"], rows)}\n` +
      "\nserver CPU: CPU time the server process got per second of the measured window (1 = a whole core). per CPU: goodput per server CPU second, as a share of capacity per server CPU second in the capacity run. The load generator shares the machine's cores, so a goodput below capacity with server CPU well below 1 is the machine's doing; the targets are judged on the plain share of capacity.\n",
  );
  return 0;
}
