// Smoke test of the stream suite's Gateway SSE part in a tiny configuration, so its
// targets (goms gateway, bare node:http SSE writer) and their client cannot rot: both
// deliver messages without errors (no timing assertions), and both write the same
// JSON per event. Runs the built package (npm test builds dist/ first), like the benchmark.
import http from "node:http";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { getFreePort, installCleanupHooks, TargetProcess } from "../../bench/lib/proc.js";
import { parseFromServer, type FromServer, type ToServer } from "../../bench/lib/protocol.js";
import { SSE_END_OK, SSE_PREAMBLE, SseEventCounter, makeStreamedJson, readSseText } from "../../bench/lib/sse.js";
import { targetModule } from "../../bench/lib/targets.js";
import { runSsePart, SSE_TARGET_NAMES } from "../../bench/suites/stream-sse.js";
import type { LevelResult } from "../../bench/suites/rpc.js";

installCleanupHooks();
const agent = new http.Agent({ keepAlive: true });
after(() => agent.destroy());

const opts = (targets: string[]) => ({
  rounds: 1,
  levels: [1],
  targets,
  warmupMs: 50,
  durationMs: 300,
  json: undefined,
  cpuProf: false,
  verbose: false,
  argv: [],
});

test("gateway SSE part: both targets stream messages without errors in a tiny run", { timeout: 120_000 }, async () => {
  const out = await runSsePart(opts([...SSE_TARGET_NAMES]));
  assert.ok(out !== undefined);
  assert.deepEqual(out.failures, []);
  for (const target of SSE_TARGET_NAMES) {
    const row = (out.results as LevelResult[]).find((r) => r.target === target && r.level === 1);
    // The server reported its count over the window too (no CPU per message without it).
    assert.ok(row !== undefined && row.calls > 0 && row.errors === 0 && Number.isFinite(row.serverCpuUsPerCall), `${target}: ${JSON.stringify(row)}`);
  }
  assert.match(out.lines[0] ?? "", /^### Gateway SSE, /);
  for (const key of ["gateway-sse/bare-sse msg/s streams=1", "gateway-sse/bare-sse server cpu per msg streams=1"]) {
    assert.ok(Number.isFinite(out.ratios[key]), `ratio ${key}: ${String(out.ratios[key])}`);
  }
});

test("gateway SSE part: no SSE target selected, no part", async () => {
  assert.equal(await runSsePart(opts(["goms", "grpc"])), undefined);
});

/** Starts one SSE server target; returns its port and its stop. */
async function startServer(name: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await getFreePort();
  const proc = new TargetProcess<FromServer, ToServer>(
    { name, module: targetModule({ name, description: "", ports: 1, profile: false, modules: { server: `sse/${name}` } }, "server"), env: { BENCH_CONFIG: JSON.stringify({ host: "127.0.0.1", ports: [port] }) }, execArgv: ["--import", "tsx"], verbose: false },
    parseFromServer,
  );
  const m = await proc.next(60_000, "server ready");
  assert.equal(m.type, "ready", JSON.stringify(m));
  return { port, stop: () => proc.stop({ type: "close" }) };
}

test("gateway SSE part: the bare writer sends the gateway's bytes for a short stream", { timeout: 120_000 }, async () => {
  const texts: string[] = [];
  for (const name of ["gateway-server", "bare-server"]) {
    const s = await startServer(name);
    try {
      // The gateway learns the service from its peer just after start: retry briefly.
      let text: string | undefined;
      for (let i = 0; i < 100 && text === undefined; i++) {
        text = await readSseText({ host: "127.0.0.1", port: s.port, agent }, 2).catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
      }
      assert.ok(text !== undefined, `${name} never answered`);
      texts.push(text);
    } finally {
      await s.stop();
    }
  }
  const message = `event: message\ndata: ${JSON.stringify(makeStreamedJson())}\n\n`;
  assert.equal(texts[0], `${SSE_PREAMBLE}${message}${message}${SSE_END_OK}`, "the gateway's stream");
  assert.equal(texts[1], texts[0], "the bare writer's stream");
});

test("SseEventCounter: counts data events however the bytes are split", () => {
  const event = `event: message\ndata: ${JSON.stringify({ a: 1 })}\n\n`;
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(event, ": ping\n\n", "retry: 2000\n\n", 'event: end\ndata: {"code":"ok"}\n\n'), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (parts, cuts) => {
        const bytes = Buffer.from(parts.join(""));
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const counter = new SseEventCounter();
        let n = 0;
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          n += counter.push(bytes.subarray(prev, c));
          prev = c;
        }
        assert.equal(n, parts.filter((p) => p.includes("data: ")).length);
      },
    ),
  );
});
