// Smoke test of bench/micro/async-context.ts (what AsyncLocalStorage costs a stream
// handler per message), so that the script cannot rot: every variant drains all its
// messages (the script throws otherwise) and the table has both rows. No timing assertions.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);

test("bench micro async-context: every variant drains its messages and the table prints", { timeout: 60_000 }, async () => {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/micro/async-context.ts", "2000", "1"]);
  assert.match(stdout, /2000 messages, best of 1 rounds/);
  for (const row of [/^\| `async \*` \(a then per message\) \| \d+ \| \d+ \| -?\d+ \|$/m, /^\| `function\*` \(drained in one go\) \| \d+ \| \d+ \| -?\d+ \|$/m]) assert.match(stdout, row);
});

test("bench micro async-context: a bad count is a usage error", async () => {
  await assert.rejects(run(process.execPath, ["--import", "tsx", "bench/micro/async-context.ts", "0"]), (e: { code?: number; stderr?: string }) => e.code === 2 && /usage/.test(e.stderr ?? ""));
});
