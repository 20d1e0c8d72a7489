// One trace from an HTTP client through the gateway node to the DB handler on
// another node, exported over OTLP/HTTP to a collector this test starts.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { setupTracing, tracingInterceptors, type TracingHandle } from "../../src/monitor/index.js";
import { createGateway } from "../../src/gateway/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { NodeSet, until } from "../helpers.js";
import { closeAgent, post } from "./helpers.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

/** A minimal OTLP/HTTP JSON traces receiver on a free loopback port. */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      assert.equal(req.url, "/v1/traces");
      assert.match(req.headers["content-type"] ?? "", /json/);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const nodes = new NodeSet();
let collector: Awaited<ReturnType<typeof startCollector>>;
let tracing: TracingHandle;
before(async () => {
  collector = await startCollector();
  tracing = await setupTracing({ serviceName: "goms-gateway-test", otlpUrl: collector.url });
});
after(async () => {
  closeAgent();
  await nodes.closeAll();
  await tracing.shutdown();
  await collector.close();
});

it("HTTP (traceparent) -> gateway SERVER span -> gate node CLIENT span -> DB handler SERVER span, one trace", async () => {
  const t = tracingInterceptors();
  let seenTraceparent = "";
  const db = await nodes.start({ identity: { name: "db-t" }, listen: { port: 0 }, calls: { serverInterceptors: [t.server] } }, (n) =>
    n.service(DB, {
      query(_req, ctx) {
        seenTraceparent = ctx.metadata["traceparent"] ?? "";
        return { value: "v" };
      },
    }),
  );
  const gwNode = await nodes.start({ identity: { name: "gate-t" }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] }, calls: { interceptors: [t.client] } });
  const gw = createGateway({ node: gwNode });
  const port = (await gw.start()).port;
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const callerSpan = "00f067aa0ba902b7";
  const r = await post(port, "/api/DB/Query", '{"key":"k"}', { traceparent: `00-${traceId}-${callerSpan}-01` });
  assert.equal(r.status, 200, r.text);
  await gw.close();
  await tracing.forceFlush();
  await until(() => collector.spans.filter((s) => s.traceId === traceId).length >= 3, 5000, "three spans exported");

  const spans = collector.spans.filter((s) => s.traceId === traceId);
  const gateway = spans.find((s) => s.name === "POST goms.examples.v1.DB/Query");
  const client = spans.find((s) => s.name === "goms.examples.v1.DB/Query" && s.kind === 3);
  const server = spans.find((s) => s.name === "goms.examples.v1.DB/Query" && s.kind === 2);
  assert.ok(gateway && client && server, JSON.stringify(spans));
  assert.equal(gateway.kind, 2, "the gateway span is a SERVER span");
  assert.equal(gateway.parentSpanId, callerSpan, "the gateway continues the incoming traceparent");
  assert.equal(client.parentSpanId, gateway.spanId, "the RPC client span is a child of the gateway span");
  assert.equal(server.parentSpanId, client.spanId, "the DB handler span is a child of the client span");
  assert.ok(seenTraceparent.includes(traceId));
});
