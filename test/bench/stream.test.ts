// Smoke test of `npm run bench -- stream` in a tiny configuration, so the suite and its
// target processes (goms, grpc-js, raw-codec) cannot rot. It checks that every target
// delivered messages, not how fast: no timing assertions. Runs the built package
// (npm test builds dist/ first), like the benchmark does.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";

const dir = mkdtempSync(path.join(tmpdir(), "goms-bench-stream-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  target: string;
  level: number;
  calls: number;
  errors: number;
  p50Us: number;
}

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    p.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

// Ten short-lived processes start here (tsx compiles each): slow on a loaded machine, hence the longer timeout.
test("bench stream: every target streams and ping-pongs in a tiny run", { timeout: 240_000 }, async () => {
  const json = path.join(dir, "stream.json");
  // The SSE and stalled-reader parts have smoke tests of their own (stream-sse, stream-stall); their peers are left out here.
  const targets = "raw-codec,grpc,goms,goms-noctx,goms-sync,goms-unary,goms-unary+stream,goms-unary+stream-apart";
  const r = await run(["stream", "--rounds", "1", "--levels", "1", "--warmup", "50", "--duration", "300", "--stall-ms", "300", "--targets", targets, "--json", json]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(json, "utf8")) as {
    throughput: Row[];
    pingpong: Row[];
    parts: Array<{ section: string; results: Row[] }>;
    ratios: Record<string, number | null>;
    failures: unknown[];
  };
  assert.deepEqual(doc.failures, []);
  for (const target of ["goms", "goms-sync", "grpc", "raw-codec"]) {
    const row = doc.throughput.find((x) => x.target === target && x.level === 1);
    assert.ok(row !== undefined && row.calls > 0 && row.errors === 0, `${target} throughput: ${JSON.stringify(row)}`);
  }
  for (const target of ["goms", "grpc"]) {
    const row = doc.pingpong.find((x) => x.target === target);
    assert.ok(row !== undefined && row.calls > 0 && row.errors === 0 && row.p50Us > 0, `${target} ping-pong: ${JSON.stringify(row)}`);
  }
  const mixed = doc.parts.find((p) => p.section.startsWith("### Unary calls beside a busy stream"));
  assert.ok(mixed !== undefined, `no unary-beside-a-stream part: ${doc.parts.map((p) => p.section).join(", ")}`);
  for (const target of ["goms-unary", "goms-unary+stream", "goms-unary+stream-apart"]) {
    const row = mixed.results.find((x) => x.target === target && x.level === 1);
    assert.ok(row !== undefined && row.calls > 0 && row.errors === 0 && row.p50Us > 0, `${target}: ${JSON.stringify(row)}`);
  }
  for (const key of ["goms/grpc msg/s streams=1", "goms/raw-codec msg/s streams=1", "goms-sync/raw-codec msg/s streams=1", "raw-codec/grpc msg/s streams=1", "grpc/goms ping-pong p99", "unary with/without stream p99 inflight=1", "unary stream shared/apart p50 inflight=1"]) {
    assert.equal(typeof doc.ratios[key], "number", `ratio ${key} missing`);
  }
});

test("bench stream: an unknown target is a usage error", async () => {
  const r = await run(["stream", "--targets", "goms,nope"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown target "nope"/);
});
