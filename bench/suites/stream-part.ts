/**
 * What each extra part of the `stream` suite (gateway SSE, stalled reader,
 * unary calls beside a busy stream) hands back to bench/suites/stream.ts,
 * which runs the parts one after another and prints their sections in order.
 * A part runs its own rounds (with runTargetRound from the rpc suite, so
 * every part starts, measures and stops its processes the same way).
 */
import { median } from "../lib/stats.js";
import type { Check } from "../lib/table.js";
import type { TargetDef } from "../lib/targets.js";
import { runTargetRound, type LevelResult, type RoundExtras, type RpcOptions } from "./rpc.js";

export interface PartOutput {
  /** Markdown lines of the part's section, starting with its `### ` heading. */
  lines: string[];
  /** Same-round ratios and headline figures, keyed like the suite's others, for --json. */
  ratios: Record<string, number>;
  /** Goals checked (printed under "Issue targets" with the suite's own). */
  checks: Check[];
  /** Targets that failed a round (a failed part makes the suite exit 1). */
  failures: Array<{ target: string; round: number; error: string }>;
  /** The raw per-round results, for --json. */
  results: unknown[];
}

/** The per-round results of a part's targets, with what was skipped or failed. */
export interface RoundsOutcome {
  results: LevelResult[];
  skipped: Map<string, string>;
  failures: Array<{ target: string; round: number; error: string }>;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * Runs `opts.rounds` rounds over `defs` at `levels` (a target's processes
 * serve every level of a round), rotating the order by one each round so
 * that no target always runs first or last. A target that skips is not
 * retried; one that fails a round keeps what it measured before failing.
 * `extras` go to every round (RSS sampling, a window meant to be quiet).
 */
export async function runRounds(label: string, defs: readonly TargetDef[], levels: number[], opts: RpcOptions, extras: RoundExtras = {}): Promise<RoundsOutcome> {
  const out: RoundsOutcome = { results: [], skipped: new Map(), failures: [] };
  for (let round = 0; round < opts.rounds; round++) {
    const k = defs.length === 0 ? 0 : round % defs.length;
    const order = [...defs.slice(k), ...defs.slice(0, k)];
    log(`round ${round + 1}/${opts.rounds} ${label}: ${order.map((d) => d.name).join(" -> ")}`);
    const rpcOpts: RpcOptions = { ...opts, levels, targets: order.map((d) => d.name) };
    for (const d of order) {
      const key = `${label} ${d.name}`;
      if (out.skipped.has(key)) continue;
      const r = await runTargetRound(d, round, rpcOpts, extras);
      if (r.status === "skipped") {
        out.skipped.set(key, r.reason);
        log(`  ${key}: skipped: ${r.reason}`);
        continue;
      }
      out.results.push(...r.levels);
      if (r.status === "failed") {
        out.failures.push({ target: key, round, error: r.error });
        log(`  ${key}: FAILED in round ${round + 1}: ${r.error}`);
      }
    }
  }
  return out;
}

/** Median over rounds of the same-round ratio m(a)/m(b) at `level` (NaN when no round has both). */
export function sameRoundRatio(results: readonly LevelResult[], rounds: number, a: string, b: string, level: number, m: (r: LevelResult) => number): number {
  const xs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const ra = results.find((r) => r.target === a && r.level === level && r.round === round);
    const rb = results.find((r) => r.target === b && r.level === level && r.round === round);
    if (ra !== undefined && rb !== undefined && m(ra) > 0 && m(rb) > 0) xs.push(m(ra) / m(rb));
  }
  return median(xs);
}
