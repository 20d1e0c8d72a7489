/**
 * The stream suite's "memory under a stalled reader" part: one server stream
 * of the 581-byte message, read normally during the warmup; then the client
 * stops reading for `stallMs` (the measured window) and cancels. The parent
 * samples both processes' RSS during the stall, and the server's message count
 * at its two edges tells whether the producer was suspended (goms: by the
 * stream's credit window) or kept producing into memory.
 *
 * grpc-nodrain is a grpc-js handler that ignores write()'s return value:
 * grpc-js has no other flow control on the server side, so this is what a
 * stalled reader costs such a server. Nothing bounds its queue but the
 * window's end (the client's cancel) and the bench's own cap on messages, so
 * its growth is a rate, not a ceiling.
 */
import { installCleanupHooks } from "../lib/proc.js";
import { fmtInt, fmtNum, median } from "../lib/stats.js";
import { check, markdownTable } from "../lib/table.js";
import type { TargetDef } from "../lib/targets.js";
import type { LevelResult, RssSample } from "./rpc.js";
import type { StreamOptions } from "./stream.js";
import { runRounds, type PartOutput } from "./stream-part.js";

export const STALL_TARGET_NAMES = ["goms", "grpc", "grpc-nodrain"] as const;

/** How often the parent reads both processes' RSS during the stall. */
const RSS_EVERY_MS = 250;
/**
 * The goal: a goms server's RSS grows by less than this during the stall. A
 * suspended producer allocates nothing, so what goms shows is GC and sampling
 * noise (a few MB at most: the stream's window is 256 KiB); a server that
 * keeps writing into memory grows by hundreds of MB in a few seconds (the
 * grpc-nodrain row). 20 MB sits well between the two.
 */
const GOMS_GROWTH_MAX_MB = 20;
/**
 * The grpc-nodrain server's backstop: at most this many messages per stream.
 * A write grpc-js cannot send yet waits in the call's Writable buffer as an
 * entry of 60-75 bytes pointing at the shared message (serialized when its turn
 * comes), and the loop writes 1.5-5 M per second: 10 M entries are 600-750 MB,
 * reached within a few seconds, far below Node's default 4 GB heap limit and
 * bearable on a shared machine. Its RSS levels off there (the growth rate is
 * therefore taken up to the maximum).
 */
const NODRAIN_MAX_MESSAGES = 10_000_000;
/** Growth below this is GC and allocator noise (a few hundred KB between samples is common): no rate is given for it. */
const NOISE_MB = 5;

function stallDef(name: string, server: string, client: string, description: string, env: Record<string, string> = {}): TargetDef {
  return { name, description, ports: 1, profile: name === "goms", modules: { server, client }, env: { BENCH_STREAM_MODE: "stall", ...env } };
}

const DEFS: readonly TargetDef[] = [
  stallDef("goms", "goms/server", "goms/stream-client", "goms server stream; the client's for-await stops pulling"),
  stallDef("grpc", "grpc/server", "grpc/stream-client", "@grpc/grpc-js, write() until false then 'drain'; the client calls pause()"),
  stallDef("grpc-nodrain", "grpc/server", "grpc/stream-client", "@grpc/grpc-js, write() return value ignored (32 writes per event-loop turn); the client calls pause()", {
    GRPC_BENCH_NODRAIN: String(NODRAIN_MAX_MESSAGES),
  }),
];

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Per-round figures of one target, derived from the RSS series and the server's counts. */
interface StallFigures {
  target: string;
  round: number;
  serverStartMb: number;
  serverMaxMb: number;
  /** When RSS came within 5% of the maximum's growth, ms into the stall. */
  serverMaxAtMs: number;
  clientStartMb: number;
  clientMaxMb: number;
  clientMaxAtMs: number;
  /** Messages the server produced during the stall. */
  served: number;
  /** Messages the client took during the stall (0 unless the stall leaked). */
  clientMessages: number;
}

function figures(r: LevelResult): StallFigures | undefined {
  const rss = r.rss ?? [];
  const first = rss[0];
  if (first === undefined) return undefined;
  /** The maximum, and when the climb to it was (nearly) done: the first reading within 5% of the growth, as a plateau wobbles by a few KB. */
  const peak = (mb: (x: RssSample) => number): { mb: number; atMs: number } => {
    const max = Math.max(...rss.map(mb));
    const near = rss.find((x) => mb(x) - mb(first) >= 0.95 * (max - mb(first))) ?? first;
    return { mb: max, atMs: near.ms };
  };
  const server = peak((x) => x.serverMb);
  const client = peak((x) => x.clientMb);
  return {
    target: r.target,
    round: r.round,
    serverStartMb: first.serverMb,
    serverMaxMb: server.mb,
    serverMaxAtMs: server.atMs,
    clientStartMb: first.clientMb,
    clientMaxMb: client.mb,
    clientMaxAtMs: client.atMs,
    served: r.served,
    clientMessages: r.calls,
  };
}

export async function runStallPart(opts: StreamOptions & { stallMs: number }): Promise<PartOutput | undefined> {
  const defs = DEFS.filter((d) => opts.targets.includes(d.name));
  if (defs.length === 0) return undefined;
  installCleanupHooks();
  const { results, skipped, failures } = await runRounds("stall", defs, [1], { ...opts, durationMs: opts.stallMs }, { rssEveryMs: RSS_EVERY_MS, quietWindow: true });
  const stalls: StallFigures[] = [];
  for (const r of results) {
    const f = figures(r);
    // A round whose client reported errors (the stream ended before the window did) or that has no RSS (not Linux) is a failure of the part.
    const error = r.errors > 0 ? (r.firstError ?? `${r.errors} errors`) : f === undefined ? "no RSS samples (needs Linux /proc)" : undefined;
    if (error !== undefined) failures.push({ target: `stall ${r.target}`, round: r.round, error });
    if (f === undefined) continue;
    stalls.push(f);
    log(
      `  stall ${r.target} round ${r.round + 1}: server RSS ${fmtNum(f.serverStartMb)} -> max ${fmtNum(f.serverMaxMb)} MB, client ${fmtNum(f.clientStartMb)} -> ` +
        `max ${fmtNum(f.clientMaxMb)} MB, server produced ${f.served} messages during the stall`,
    );
  }

  const of = (target: string): StallFigures[] => stalls.filter((f) => f.target === target);
  const med = (target: string, m: (f: StallFigures) => number): number => median(of(target).map(m));
  const serverGrowth = (f: StallFigures): number => f.serverMaxMb - f.serverStartMb;
  const clientGrowth = (f: StallFigures): number => f.clientMaxMb - f.clientStartMb;
  /** MB per second from the stall's start to the maximum (a loop stopped by a cap levels off: its rate is the climb's); 0 for noise. */
  const rate = (growth: number, atMs: number): number => (growth >= NOISE_MB ? growth / (Math.max(atMs, RSS_EVERY_MS) / 1000) : 0);
  const seconds = opts.stallMs / 1000;

  const lines: string[] = [];
  lines.push(`### Memory under a stalled reader (${fmtNum(seconds)} s)`);
  lines.push("");
  lines.push(
    `One server stream of the 581-byte message; the client reads for the warmup (${opts.warmupMs} ms), then stops reading for ${fmtNum(seconds)} s ` +
      `and cancels. RSS of both processes read every ${RSS_EVERY_MS} ms from the parent; growth = max during the stall - RSS when it began, ` +
      `its rate taken over the climb to the maximum (0 below ${NOISE_MB} MB, which is noise); ` +
      `medians over ${opts.rounds} round(s). "Produced during the stall" is the server's message count across the window: ` +
      "a suspended producer stays near its flow-control window (goms: 256 KiB, about 450 messages; at most 1.5 windows, as the reader grants it back in halves).",
  );
  const ratios: Record<string, number> = {};
  for (const d of defs) {
    lines.push("");
    lines.push(`#### ${d.name}: ${d.description}`);
    lines.push("");
    const reason = skipped.get(`stall ${d.name}`);
    if (reason !== undefined) {
      lines.push(`skipped: ${reason}`);
      continue;
    }
    if (of(d.name).length === 0) {
      lines.push("failed (see Failures)");
      continue;
    }
    const row = (label: string, start: (f: StallFigures) => number, max: (f: StallFigures) => number, growth: (f: StallFigures) => number, atMs: (f: StallFigures) => number): string[] => [
      label,
      fmtNum(med(d.name, start)),
      fmtNum(med(d.name, max)),
      fmtNum(med(d.name, growth)),
      fmtNum(med(d.name, (f) => rate(growth(f), atMs(f)))),
    ];
    lines.push(
      markdownTable(
        ["process", "RSS at stall start MB", "max during stall MB", "growth MB", "growth MB/s (to max)"],
        [
          row("server", (f) => f.serverStartMb, (f) => f.serverMaxMb, serverGrowth, (f) => f.serverMaxAtMs),
          row("client", (f) => f.clientStartMb, (f) => f.clientMaxMb, clientGrowth, (f) => f.clientMaxAtMs),
        ],
      ),
    );
    const served = med(d.name, (f) => f.served);
    lines.push("");
    lines.push(
      `Server produced ${fmtInt(served)} messages during the stall; the client took ${fmtInt(med(d.name, (f) => f.clientMessages))}.` +
        (d.name === "grpc-nodrain" ? ` The bench stops this server at ${fmtInt(NODRAIN_MAX_MESSAGES)} messages per stream (warm-up included): an RSS that levels off is that cap, not grpc-js.` : ""),
    );
    ratios[`stall ${d.name} server rss growth MB`] = med(d.name, serverGrowth);
    ratios[`stall ${d.name} server rss growth MB/s`] = med(d.name, (f) => rate(serverGrowth(f), f.serverMaxAtMs));
    ratios[`stall ${d.name} client rss growth MB`] = med(d.name, clientGrowth);
    ratios[`stall ${d.name} server messages`] = served;
  }

  const checks = defs.some((d) => d.name === "goms")
    ? [check(`goms server RSS growth during a ${fmtNum(seconds)} s stall (MB)`, of("goms").length > 0 ? med("goms", serverGrowth) : Number.NaN, GOMS_GROWTH_MAX_MB, fmtNum, true)]
    : [];
  return { lines, ratios, checks, failures, results };
}
