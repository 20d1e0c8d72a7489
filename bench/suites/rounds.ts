/**
 * Rounds over a set of targets, as every process-pair suite runs them: the
 * target order rotates by one per round (so no target always runs first,
 * on a cooler machine), a target that skips once is skipped for the rest,
 * and a failed round is recorded without stopping the others. Ratios are
 * medians of same-round ratios, so that drift between rounds cancels out.
 */
import { median } from "../lib/stats.js";
import type { TargetDef } from "../lib/targets.js";
import { runTargetRound, type LevelResult, type RpcOptions } from "./rpc.js";

export interface RoundsOutcome {
  /** Every level of every round that produced results (failed rounds included, up to where they failed). */
  results: LevelResult[];
  /** Targets that skipped, with their reason. */
  skipped: Map<string, string>;
  failures: Array<{ target: string; round: number; error: string }>;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Runs `opts.rounds` rounds of `defs` at `opts.levels`, rotating the order; `label` names them in the log. */
export async function runRotatedRounds(defs: readonly TargetDef[], opts: RpcOptions, label: string): Promise<RoundsOutcome> {
  const out: RoundsOutcome = { results: [], skipped: new Map(), failures: [] };
  for (let round = 0; round < opts.rounds; round++) {
    const k = defs.length === 0 ? 0 : round % defs.length;
    const order = [...defs.slice(k), ...defs.slice(0, k)];
    log(`round ${round + 1}/${opts.rounds} ${label}: ${order.map((d) => d.name).join(" -> ")}`);
    const rpcOpts: RpcOptions = { ...opts, targets: order.map((d) => d.name) };
    for (const d of order) {
      if (out.skipped.has(d.name)) continue;
      const r = await runTargetRound(d, round, rpcOpts);
      if (r.status === "skipped") {
        out.skipped.set(d.name, r.reason);
        log(`  ${d.name}: skipped: ${r.reason}`);
        continue;
      }
      out.results.push(...r.levels);
      if (r.status === "failed") {
        out.failures.push({ target: d.name, round, error: r.error });
        log(`  ${d.name}: FAILED in round ${round + 1}: ${r.error}`);
      }
    }
  }
  return out;
}

/** Median over `rounds` of the same-round ratio a/b of `m` at `level` (NaN when no round has both). */
export function sameRoundRatio(results: readonly LevelResult[], rounds: number, a: string, b: string, level: number, m: (r: LevelResult) => number): number {
  const xs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const ra = results.find((r) => r.target === a && r.level === level && r.round === round);
    const rb = results.find((r) => r.target === b && r.level === level && r.round === round);
    if (ra !== undefined && rb !== undefined && m(ra) > 0 && m(rb) > 0) xs.push(m(ra) / m(rb));
  }
  return median(xs);
}
