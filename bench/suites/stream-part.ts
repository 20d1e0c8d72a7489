/**
 * What each extra part of the `stream` suite (gateway SSE, stalled reader,
 * unary calls beside a busy stream) hands back to bench/suites/stream.ts,
 * which runs the parts one after another and prints their sections in order.
 * A part runs its own rounds (with runTargetRound from the rpc suite, so
 * every part starts, measures and stops its processes the same way).
 */
import type { Check } from "../lib/table.js";

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
