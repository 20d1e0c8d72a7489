// Runs every fuzz target for a bounded number of cases in CI
// (GOMS_FUZZ_RUNS, default 300). `npm run fuzz -- --runs N` runs many more.
import { test } from "node:test";
import { TARGETS } from "./targets.js";

const RUNS = Number(process.env.GOMS_FUZZ_RUNS ?? 300);

for (const target of TARGETS) {
  test(`fuzz: ${target.name} (${RUNS} runs)`, async () => {
    await target.check(RUNS);
  });
}
