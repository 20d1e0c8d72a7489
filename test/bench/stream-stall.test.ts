// The stream suite's stalled-reader part in a tiny configuration, so it cannot rot: every
// target runs without errors and reports RSS samples, and goms's server, whose reader
// stopped, produced at most about one stream window of messages during the stall (its
// generator was suspended). A count, not a timing: the window bounds it however slow the
// machine is. Runs the built package (npm test builds dist/ first), like the benchmark does.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RssSample } from "../../bench/suites/rpc.js";
import { runStallPart, STALL_TARGET_NAMES } from "../../bench/suites/stream-stall.js";

/** The default stream window (limits.connection.streamWindow) in 581-byte messages, about 451. */
const WINDOW_MESSAGES = Math.ceil((256 * 1024) / 581);

/** One round, a 200 ms warm-up, a 1 s stall. */
function tiny(targets: string[]): Parameters<typeof runStallPart>[0] {
  return { rounds: 1, levels: [1], targets, warmupMs: 200, durationMs: 300, stallMs: 1000, json: undefined, cpuProf: false, verbose: false, argv: [] };
}

interface Row {
  target: string;
  served: number;
  errors: number;
  rss?: RssSample[];
}

// Six short-lived processes start here (tsx compiles each): slow on a loaded machine, hence the longer timeout.
test("bench stream stall: every target runs; goms's producer stays within its window", { timeout: 180_000 }, async () => {
  const out = await runStallPart(tiny([...STALL_TARGET_NAMES]));
  assert.ok(out !== undefined);
  assert.deepEqual(out.failures, []);
  const rows = out.results as Row[];
  for (const target of STALL_TARGET_NAMES) {
    const row = rows.find((r) => r.target === target);
    assert.ok(row !== undefined && row.errors === 0 && (row.rss?.length ?? 0) >= 2, `${target}: ${JSON.stringify(row)}`);
  }
  const goms = rows.find((r) => r.target === "goms");
  // The window, plus up to half a window the reader took before it stalled but had not granted
  // back yet (goms grants in halves), plus the message at the generator's yield: twice the window
  // leaves room, and a producer that ignored the stall would be past 100,000 within the second.
  assert.ok(goms !== undefined && goms.served <= 2 * (WINDOW_MESSAGES + 1), `goms produced ${goms?.served} messages while its reader stalled`);
  assert.ok(out.lines[0]?.startsWith("### Memory under a stalled reader"));
  assert.equal(typeof out.ratios["stall goms server rss growth MB"], "number");
});

test("bench stream stall: no part when no stall target is selected", async () => {
  const out = await runStallPart(tiny(["raw-codec"]));
  assert.equal(out, undefined);
});
