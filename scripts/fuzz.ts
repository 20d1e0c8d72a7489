// npm run fuzz -- [--runs N] [--target name]...
// Runs each fuzz target (test/fuzz/targets.ts) for N cases (default 100000)
// and prints cases, time and the result per target. Exit code 1 on any failure.
import { parseArgs } from "node:util";
import { TARGETS } from "../test/fuzz/targets.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "100000" }, target: { type: "string", multiple: true } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got ${values.runs}`);
  process.exit(2);
}
const wanted = values.target ?? [];
const unknown = wanted.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length > 0) {
  console.error(`unknown target(s): ${unknown.join(", ")}; known: ${TARGETS.map((t) => t.name).join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const t of TARGETS) {
  if (wanted.length > 0 && !wanted.includes(t.name)) continue;
  const start = performance.now();
  try {
    await t.check(runs);
    console.log(`${t.name}: ${runs} runs, 0 failures, ${((performance.now() - start) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed++;
    console.log(`${t.name}: FAILED after ${((performance.now() - start) / 1000).toFixed(1)} s`);
    console.log(err instanceof Error ? err.message : String(err));
  }
}
process.exit(failed > 0 ? 1 : 0);
