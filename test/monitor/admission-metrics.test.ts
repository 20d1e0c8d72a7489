// goms_admission_*: admitted and refused calls (by reason), the concurrency
// limit, in-flight calls and queue time of each node, scraped over HTTP.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { createCollector, createMetrics, createMetricsServer, type Collector } from "../../src/monitor/index.js";
import { NodeSet, until } from "../helpers.js";
import { parseExposition, sampleValue } from "./exposition.js";

const nodes = new NodeSet();
const collectors: Collector[] = [];
afterEach(async () => {
  for (const c of collectors.splice(0)) c.close();
  await nodes.closeAll();
});

describe("prometheus: admission metrics", () => {
  it("counts admitted and refused calls per node, with the limit, in-flight calls and queue time", async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => (open = r));
    let held = 0;
    const tiny = await nodes.start({ identity: { name: "tiny" }, listen: { port: 0 }, limits: { adaptiveConcurrency: { initialLimit: 2, minLimit: 2, maxLimit: 2 } } }, (n) =>
      n.service(AddServer, {
        async add(req) {
          if (req.a === 1) {
            held++;
            await gate;
          }
          return { sum: req.a + req.b };
        },
      }),
    );
    const other = await nodes.start({ identity: { name: "other" }, listen: { port: 0 }, limits: { adaptiveConcurrency: false } });
    const client = await nodes.start({ identity: { name: "client" }, peers: { addresses: [{ host: "127.0.0.1", port: tiny.port }] } });
    await client.waitForPeer(5000);
    const add = client.client(AddServer).add;

    const calls = Array.from({ length: 6 }, () => add({ a: 1, b: 1 }, { timeoutMs: 30_000 }).then(() => "ok", (e: unknown) => e));
    await until(() => held === 2 && tiny.stats().admission.refusedLimit === 4, 10_000, "2 held, 4 refused");

    const collector = createCollector({ node: tiny });
    collectors.push(collector);
    const registry = createMetrics({ node: tiny, collector, admissionNodes: [tiny, other], processMetrics: false });
    const server = await createMetricsServer({ registry }).start();
    try {
      const scrape = async (): Promise<ReturnType<typeof parseExposition>> => parseExposition(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text());
      const { samples, types } = await scrape();
      assert.equal(types.get("goms_admission_admitted_total"), "counter");
      assert.equal(types.get("goms_admission_refused_total"), "counter");
      assert.equal(types.get("goms_admission_queue_seconds_total"), "counter");
      assert.equal(types.get("goms_admission_limit"), "gauge");
      assert.equal(types.get("goms_admission_inflight"), "gauge");
      assert.equal(types.get("goms_admission_baseline_seconds"), "gauge");
      assert.equal(types.get("goms_admission_queued"), "gauge");
      const a = tiny.stats().admission;
      assert.equal(sampleValue(samples, "goms_admission_limit", { node: "tiny" }), 2);
      assert.equal(sampleValue(samples, "goms_admission_inflight", { node: "tiny" }), 2);
      // Nothing waits before the node measured a run time (docs/resilience.md, the admission queue).
      assert.equal(sampleValue(samples, "goms_admission_queued", { node: "tiny" }), a.queued);
      assert.equal(sampleValue(samples, "goms_admission_refused_total", { node: "tiny", reason: "limit" }), 4);
      assert.equal(sampleValue(samples, "goms_admission_refused_total", { node: "tiny", reason: "deadline" }), a.refusedDeadline);
      assert.equal(sampleValue(samples, "goms_admission_admitted_total", { node: "tiny" }), a.admitted);
      assert.ok(a.admitted >= 2);
      assert.equal(sampleValue(samples, "goms_admission_queue_seconds_total", { node: "tiny" }), a.queueMsTotal / 1000);
      // A node with the limiter off: limit 0, nothing refused.
      assert.equal(sampleValue(samples, "goms_admission_limit", { node: "other" }), 0);
      assert.equal(sampleValue(samples, "goms_admission_refused_total", { node: "other", reason: "limit" }), 0);

      open();
      const outcomes = await Promise.all(calls);
      assert.equal(outcomes.filter((o) => o === "ok").length, 2);
      for (const o of outcomes.filter((o) => o !== "ok")) assert.equal((o as GomsError).code, Code.ResourceExhausted);
      // Counters move with the node; the in-flight gauge drops back.
      await until(() => tiny.stats().admission.inflight === 0, 5000, "calls settled");
      const after = (await scrape()).samples;
      assert.equal(sampleValue(after, "goms_admission_inflight", { node: "tiny" }), 0);
      assert.equal(sampleValue(after, "goms_admission_admitted_total", { node: "tiny" }), tiny.stats().admission.admitted);
    } finally {
      await server.close();
    }
  });
});
