/**
 * goms benchmarks: `npm run bench -- [suite] [options]`.
 *
 * The first positional argument selects a suite (default `rpc`). Options:
 *   --quick             1 round, short windows (finishes in under a minute)
 *   --rounds N          rounds, target order rotated each round (default 3)
 *   --targets a,b       subset of targets (rpc: raw,raw-codec,grpc,moleculer,nest,goms;
 *                       overload: goms-on,goms-off,moleculer; stream: raw-codec,grpc,goms,goms-noctx,goms-sync,grpc-nodrain,goms-unary,goms-unary+stream,gateway-sse,bare-sse)
 *   --levels 1,64       calls in flight (default 1,64,256; gateway suite: connections, default 64;
 *                       stream suite: server streams open at once, default 1,8)
 *   --loads 0.5,2       overload suite: offered load as multiples of capacity (default 0.5,1,2,4)
 *   --bodies a,b        gateway suite: request bodies (small,bench; default both)
 *   --warmup MS         warmup per level (default 1000; quick 300)
 *   --duration MS       measured window per level (default 3000; quick 1000)
 *   --stall-ms MS       stream suite: how long the stalled reader holds back (default 10000; quick 2000)
 *   --json FILE         also write machine-readable results
 *   --cpu-prof          run goms server and client with --cpu-prof into .bench-results/prof
 *   --verbose           pass target process output through to stderr
 *   --instances 1,2     rpc suite: scaling over `goms run --instances N` instead of the target comparison
 *   --workers 1,2       gateway suite: scaling over `goms gateway --workers N` instead of bare vs gateway
 */
import { GATEWAY_BODY_NAMES, runGatewaySuite } from "./suites/gateway.js";
import { runMonitorSuite } from "./suites/monitor.js";
import { OVERLOAD_TARGETS, runOverloadSuite, type Target as OverloadTarget } from "./suites/overload.js";
import { RPC_TARGET_NAMES, runRpcSuite, type RpcOptions } from "./suites/rpc.js";
import { runRegistrySuite } from "./suites/registry.js";
import { runGatewayScaling, runRpcScaling, type ScalingOptions } from "./suites/scaling.js";
import { STREAM_TARGET_NAMES, runStreamSuite } from "./suites/stream.js";

interface Suite {
  description: string;
  run(args: ParsedArgs, argv: string[]): Promise<number>;
}

interface ParsedArgs {
  suite: string;
  quick: boolean;
  rounds: number | undefined;
  targets: string[] | undefined;
  levels: number[] | undefined;
  loads: number[] | undefined;
  bodies: string[] | undefined;
  warmupMs: number | undefined;
  durationMs: number | undefined;
  stallMs: number | undefined;
  json: string | undefined;
  cpuProf: boolean;
  verbose: boolean;
  help: boolean;
  /** --instances (rpc) / --workers (gateway): process counts for the scaling run. */
  instances: number[] | undefined;
  workers: number[] | undefined;
}

/** Options of a scaling run (--instances / --workers): one level, short windows by default. */
function scaling(a: ParsedArgs, counts: number[], argv: string[], defaultLevel: number): ScalingOptions {
  if (a.levels !== undefined && a.levels.length !== 1) throw new UsageError("a scaling run takes one --levels value");
  return { counts, level: a.levels?.[0] ?? defaultLevel, warmupMs: a.warmupMs ?? (a.quick ? 300 : 1000), durationMs: a.durationMs ?? (a.quick ? 1000 : 3000), verbose: a.verbose, argv };
}

/** Options of a target comparison (rpc, stream): --targets checked against `names`, --quick defaults. */
function comparison(a: ParsedArgs, argv: string[], names: readonly string[], defaultLevels: number[]): RpcOptions {
  const targets = a.targets ?? [...names];
  for (const t of targets) {
    if (!names.includes(t)) throw new UsageError(`unknown target "${t}"; available: ${names.join(", ")}`);
  }
  return {
    rounds: a.rounds ?? (a.quick ? 1 : 3),
    levels: a.levels ?? defaultLevels,
    targets,
    warmupMs: a.warmupMs ?? (a.quick ? 300 : 1000),
    durationMs: a.durationMs ?? (a.quick ? 1000 : 3000),
    json: a.json,
    cpuProf: a.cpuProf,
    verbose: a.verbose,
    argv,
  };
}

const SUITES: Record<string, Suite> = {
  rpc: {
    description: "unary echo of the 581-byte BenchmarkMessage: goms vs raw net, grpc-js, Moleculer, Nest",
    run: async (a, argv) => {
      if (a.instances !== undefined) return runRpcScaling(scaling(a, a.instances, argv, 64));
      return runRpcSuite(comparison(a, argv, RPC_TARGET_NAMES, [1, 64, 256]));
    },
  },
  stream: {
    description: "server-streaming messages/s (goms vs grpc-js vs raw socket + codec), bidi ping-pong p50/p99, gateway SSE vs bare node:http SSE, RSS under a stalled reader, unary p50/p99 beside a busy stream",
    run: (a, argv) => {
      const opts = { ...comparison(a, argv, STREAM_TARGET_NAMES, [1, 8]), stallMs: a.stallMs ?? (a.quick ? 2000 : 10_000) };
      return runStreamSuite(opts);
    },
  },
  registry: {
    description: "time from a change to a watcher seeing it: embedded, watch server, etcd",
    run: (a) => runRegistrySuite({ quick: a.quick, json: a.json }),
  },
  gateway: {
    description: "HTTP JSON -> goms RPC -> JSON through the gateway vs a bare node:http JSON echo (small and 1,050-byte bodies), autocannon",
    run: (a, argv) => {
      if (a.workers !== undefined) return runGatewayScaling(scaling(a, a.workers, argv, 64));
      if (a.targets !== undefined) throw new UsageError("the gateway suite always runs bare and gateway side by side");
      for (const b of a.bodies ?? []) {
        if (!GATEWAY_BODY_NAMES.includes(b)) throw new UsageError(`unknown body "${b}"; available: ${GATEWAY_BODY_NAMES.join(", ")}`);
      }
      return runGatewaySuite({
        rounds: a.rounds ?? (a.quick ? 1 : 3),
        bodies: a.bodies ?? [...GATEWAY_BODY_NAMES],
        connections: a.levels ?? [64],
        warmupMs: a.warmupMs ?? (a.quick ? 500 : 1000),
        durationMs: a.durationMs ?? (a.quick ? 2000 : 5000),
        json: a.json,
        verbose: a.verbose,
        argv,
      });
    },
  },
  monitor: {
    description: "cost of monitoring: goms RPC echo with and without collector + pusher + Prometheus registry (target <= 3% QPS)",
    run: (a, argv) => {
      if (a.targets !== undefined) throw new UsageError("the monitor suite always runs goms with and without monitoring");
      return runMonitorSuite({
        rounds: a.rounds ?? (a.quick ? 2 : 6),
        levels: a.levels ?? [64],
        warmupMs: a.warmupMs ?? (a.quick ? 300 : 1000),
        durationMs: a.durationMs ?? (a.quick ? 1000 : 5000),
        verbose: a.verbose,
        argv,
      });
    },
  },
  overload: {
    description: "one node, a handler of fixed CPU cost, open-loop load at 0.5x-4x capacity: goodput, p99 and refusals with admission on and off, and Moleculer with its bulkhead",
    run: (a) => {
      const targets = a.targets ?? [...OVERLOAD_TARGETS];
      const known = (t: string): t is OverloadTarget => (OVERLOAD_TARGETS as readonly string[]).includes(t);
      for (const t of targets) if (!known(t)) throw new UsageError(`unknown target "${t}"; available: ${OVERLOAD_TARGETS.join(", ")}`);
      return runOverloadSuite({
        targets: targets.filter(known),
        factors: a.loads ?? [0.5, 1, 2, 4],
        warmupMs: a.warmupMs ?? (a.quick ? 1000 : 2000),
        durationMs: a.durationMs ?? (a.quick ? 2000 : 4000),
        deadlineMs: 100,
        costMs: 1,
        verbose: a.verbose,
      });
    },
  },
};
/** Suites that have a slot but no implementation yet. */
const PLANNED = ["codec"];

class UsageError extends Error {}

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} needs a positive integer`);
  return n;
}

function list(flag: string, v: string | undefined): string[] {
  if (v === undefined || v.trim() === "") throw new UsageError(`${flag} needs a comma-separated list`);
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const a: ParsedArgs = {
    suite: "rpc",
    quick: false,
    rounds: undefined,
    targets: undefined,
    levels: undefined,
    loads: undefined,
    bodies: undefined,
    warmupMs: undefined,
    durationMs: undefined,
    stallMs: undefined,
    json: undefined,
    cpuProf: false,
    verbose: false,
    help: false,
    instances: undefined,
    workers: undefined,
  };
  let sawSuite = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--quick":
        a.quick = true;
        break;
      case "--rounds":
        a.rounds = positiveInt(flag, value());
        break;
      case "--targets":
        a.targets = list(flag, value());
        break;
      case "--loads":
        a.loads = list(flag, value()).map((s) => {
          const n = Number(s);
          if (!(n > 0)) throw new UsageError(`${flag} needs positive numbers`);
          return n;
        });
        break;
      case "--levels":
        a.levels = list(flag, value()).map((s) => positiveInt(flag, s));
        break;
      case "--bodies":
        a.bodies = list(flag, value());
        break;
      case "--warmup":
        a.warmupMs = positiveInt(flag, value());
        break;
      case "--duration":
        a.durationMs = positiveInt(flag, value());
        break;
      case "--stall-ms":
        a.stallMs = positiveInt(flag, value());
        break;
      case "--json": {
        const v = value();
        if (v === undefined) throw new UsageError("--json needs a file name");
        a.json = v;
        break;
      }
      case "--instances":
        a.instances = list(flag, value()).map((s) => positiveInt(flag, s));
        break;
      case "--workers":
        a.workers = list(flag, value()).map((s) => positiveInt(flag, s));
        break;
      case "--cpu-prof":
        a.cpuProf = true;
        break;
      case "--verbose":
        a.verbose = true;
        break;
      case "-h":
      case "--help":
        a.help = true;
        break;
      default:
        if (flag.startsWith("-")) throw new UsageError(`unknown option ${flag}`);
        if (sawSuite) throw new UsageError(`unexpected argument ${flag}`);
        a.suite = flag;
        sawSuite = true;
    }
  }
  return a;
}

function suiteList(): string {
  const lines = Object.entries(SUITES).map(([name, s]) => `  ${name.padEnd(9)} ${s.description}`);
  lines.push(...PLANNED.map((name) => `  ${name.padEnd(9)} (planned, not implemented yet)`));
  return lines.join("\n");
}

function usage(): string {
  return [
    "usage: npm run bench -- [suite] [--quick] [--rounds N] [--targets a,b] [--levels 1,64,256]",
    "                        [--bodies a,b] [--warmup MS] [--duration MS] [--stall-ms MS] [--json FILE] [--cpu-prof] [--verbose]",
    "       npm run bench -- rpc --instances 1,2 | gateway --workers 1,2   (scaling over processes)",
    "",
    "suites:",
    suiteList(),
    "",
    `rpc targets: ${RPC_TARGET_NAMES.join(", ")}`,
    `stream targets: ${STREAM_TARGET_NAMES.join(", ")}`,
    `gateway bodies (--bodies): ${GATEWAY_BODY_NAMES.join(", ")}`,
  ].join("\n");
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${usage()}`);
    return 2;
  }
  if (args.help) {
    console.log(usage());
    return 0;
  }
  const suite = SUITES[args.suite];
  if (suite === undefined) {
    const planned = PLANNED.includes(args.suite) ? ` ("${args.suite}" is planned but not implemented yet)` : "";
    console.error(`unknown suite "${args.suite}"${planned}. Available suites:\n${suiteList()}`);
    return 2;
  }
  try {
    if (args.bodies !== undefined && args.suite !== "gateway") throw new UsageError("--bodies applies to the gateway suite only");
    if (args.workers !== undefined && args.suite !== "gateway") throw new UsageError("--workers applies to the gateway suite only");
    if (args.instances !== undefined && args.suite !== "rpc") throw new UsageError("--instances applies to the rpc suite only");
    if (args.stallMs !== undefined && args.suite !== "stream") throw new UsageError("--stall-ms applies to the stream suite only");
    return await suite.run(args, argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${usage()}`);
      return 2;
    }
    throw e;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
