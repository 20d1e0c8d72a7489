#!/usr/bin/env node
// Runs the node:test suite. Arguments narrow it to files or folders under test/.
// Every test file runs in its own process (node --test), TypeScript via tsx.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("-"));
const files = (roots.length ? roots : ["test"]).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...flags, ...files],
  { stdio: "inherit" },
);
process.exit(res.status ?? 1);
