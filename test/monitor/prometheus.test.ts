import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { register as globalRegistry } from "prom-client";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { createCollector, createMetrics, createMetricsServer, type Collector } from "../../src/monitor/index.js";
import { NodeSet } from "../helpers.js";
import { parseExposition } from "./exposition.js";

const nodes = new NodeSet();
const collectors: Collector[] = [];
afterEach(async () => {
  for (const c of collectors.splice(0)) c.close();
  await nodes.closeAll();
});

function hasPromtool(): boolean {
  return spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
}

describe("prometheus metrics", () => {
  it("exposes calls, durations, in-flight, peers and process metrics in valid text format", async () => {
    const s = await nodes.start({ identity: { name: "prom-s" }, listen: { port: 0 } }, (n) =>
      n.service(AddServer, {
        add(req) {
          if (req.a < 0) throw new GomsError("negative", Code.InvalidArgument);
          return { sum: req.a + req.b };
        },
      }),
    );
    const c = await nodes.start({ identity: { name: "prom-c" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
    const collector = createCollector({ node: s });
    collectors.push(collector);
    const registry = createMetrics({ node: s, collector });
    assert.notEqual(registry, globalRegistry);
    for (let i = 0; i < 4; i++) await c.client(AddServer).add({ a: i });
    await assert.rejects(c.client(AddServer).add({ a: -1 }));

    const srv = await createMetricsServer({ registry, listen: { port: 0 } }).start();
    try {
      const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.equal((await fetch(`http://127.0.0.1:${srv.port}/other`)).status, 404);

      const { samples, types } = parseExposition(text);
      assert.equal(types.get("goms_rpc_calls_total"), "counter");
      assert.equal(types.get("goms_rpc_duration_seconds"), "histogram");
      assert.equal(types.get("goms_rpc_in_flight"), "gauge");
      assert.equal(types.get("goms_peers_ready"), "gauge");
      assert.equal(types.get("goms_server_connections"), "gauge");
      assert.ok(types.has("process_cpu_user_seconds_total") && types.has("nodejs_heap_size_used_bytes"), "default process metrics");

      const find = (name: string, labels: Record<string, string>): number | undefined =>
        samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
      const base = { side: "server", service: "goms.examples.v1.AddServer", method: "Add" };
      assert.equal(find("goms_rpc_calls_total", { ...base, code: "ok" }), 4);
      assert.equal(find("goms_rpc_calls_total", { ...base, code: "invalid_argument" }), 1);
      assert.equal(find("goms_rpc_duration_seconds_count", base), 5);
      assert.equal(find("goms_rpc_duration_seconds_bucket", { ...base, le: "+Inf" }), 5);
      assert.ok((find("goms_rpc_duration_seconds_sum", base) ?? -1) > 0);
      // Buckets are cumulative and end at the count.
      const buckets = samples.filter((x) => x.name === "goms_rpc_duration_seconds_bucket" && x.labels["side"] === "server");
      assert.equal(buckets.length, 16);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
      assert.equal(find("goms_server_connections", {}), 1);
      assert.equal(find("goms_rpc_in_flight", { side: "server" }), 0);
      assert.equal(find("goms_peers_ready", {}), 0);

      if (hasPromtool()) {
        const dir = mkdtempSync(join(tmpdir(), "goms-prom-"));
        try {
          const file = join(dir, "metrics.txt");
          writeFileSync(file, text);
          execFileSync("sh", ["-c", `promtool check metrics < "${file}"`], { stdio: "pipe" });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } else {
        // promtool (Debian package "prometheus") is optional per the issue: not installed, check skipped.
        console.log("# promtool not installed: `promtool check metrics` skipped");
      }
    } finally {
      await srv.close();
    }
  });
});
