import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { setupTracing, tracingInterceptors, type TracingHandle } from "../../src/monitor/index.js";
import { NodeSet } from "../helpers.js";

const nodes = new NodeSet();
const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
before(async () => {
  tracing = await setupTracing({ serviceName: "goms-test", spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
after(() => tracing.shutdown());
afterEach(async () => {
  exporter.reset();
  await nodes.closeAll();
});

function parentId(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}

describe("tracing over goms metadata", () => {
  it("propagates W3C trace context across nodes over TCP: one trace, parent/child spans", async () => {
    assert.equal(tracing.registered, true);
    const t = tracingInterceptors();
    const seen: Record<string, string | undefined> = {};
    const c = await nodes.start({ identity: { name: "trace-c" }, listen: { port: 0 }, calls: { serverInterceptors: [t.server] } }, (n) =>
      n.service(DB, {
        query(req, ctx) {
          seen["c"] = ctx.metadata["traceparent"];
          if (req.key === "bad") throw new GomsError("no such key", Code.NotFound);
          return { value: "v" };
        },
      }),
    );
    const b = await nodes.start(
      { identity: { name: "trace-b" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: c.port }] }, calls: { interceptors: [t.client], serverInterceptors: [t.server] } },
      (n) =>
        n.service(AddServer, {
          async add(req, ctx) {
            seen["b"] = ctx.metadata["traceparent"];
            // A nested call from inside the handler: a child of this server span.
            const r = await n.client(DB).query({ key: req.a === 13 ? "bad" : "k" }).catch(() => ({ value: "" }));
            return { sum: req.a + req.b + r.value.length };
          },
        }),
    );
    const a = await nodes.start({ identity: { name: "trace-a" }, peers: { addresses: [{ host: "127.0.0.1", port: b.port }] }, calls: { interceptors: [t.client] } });

    const root = trace.getTracer("test").startSpan("root");
    const res = await context.with(trace.setSpan(context.active(), root), () => a.client(AddServer).add({ a: 1, b: 2 }));
    root.end();
    assert.equal(res.sum, 4);

    const spans = exporter.getFinishedSpans();
    const byKind = (name: string, kind: SpanKind): ReadableSpan => {
      const s = spans.find((x) => x.name === name && x.kind === kind);
      assert.ok(s, `no ${SpanKind[kind]} span ${name}; have ${spans.map((x) => `${x.name}/${SpanKind[x.kind]}`).join(", ")}`);
      return s;
    };
    const aClient = byKind("goms.examples.v1.AddServer/Add", SpanKind.CLIENT);
    const bServer = byKind("goms.examples.v1.AddServer/Add", SpanKind.SERVER);
    const bClient = byKind("goms.examples.v1.DB/Query", SpanKind.CLIENT);
    const cServer = byKind("goms.examples.v1.DB/Query", SpanKind.SERVER);
    const traceId = root.spanContext().traceId;
    for (const s of [aClient, bServer, bClient, cServer]) assert.equal(s.spanContext().traceId, traceId, `${s.name} is in the root's trace`);
    assert.equal(parentId(aClient), root.spanContext().spanId);
    assert.equal(parentId(bServer), aClient.spanContext().spanId);
    assert.equal(parentId(bClient), bServer.spanContext().spanId);
    assert.equal(parentId(cServer), bClient.spanContext().spanId);
    assert.equal(seen["b"], `00-${traceId}-${aClient.spanContext().spanId}-01`);
    assert.equal(seen["c"], `00-${traceId}-${bClient.spanContext().spanId}-01`);
    assert.equal(bServer.attributes["rpc.system"], "goms");
    assert.equal(bServer.attributes["goms.peer.node"], "trace-a");

    // Errors mark the spans on both sides.
    exporter.reset();
    await a.client(AddServer).add({ a: 13 });
    const failed = exporter.getFinishedSpans().filter((s) => s.name === "goms.examples.v1.DB/Query");
    assert.equal(failed.length, 2);
    for (const s of failed) {
      assert.equal(s.status.code, SpanStatusCode.ERROR);
      assert.equal(s.attributes["goms.code"], "not_found");
    }
    // Without an active span a call starts a new trace.
    const top = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT && s.name === "goms.examples.v1.AddServer/Add");
    assert.ok(top);
    assert.equal(parentId(top), undefined);
    assert.notEqual(top.spanContext().traceId, traceId);
  });
});
