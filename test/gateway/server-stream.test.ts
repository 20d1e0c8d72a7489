// Server streams through the gateway: SSE and NDJSON framing, the final status
// event, deadlines, auth and CORS as for unary calls, client disconnect
// cancelling upstream, and OpenAPI. Real TCP between gateway and node.
import assert from "node:assert/strict";
import http from "node:http";
import { describe, it } from "node:test";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { until, withNodeOptions } from "../helpers.js";
import { END_TRAILER, newProbe, streamImpl, type Probe } from "../streams/fixture.js";
import { createGateway, post, request, useGatewayEnv } from "./helpers.js";
import type { GatewayOptions } from "../../src/gateway/index.js";

const { nodes, track } = useGatewayEnv();

async function streamEnv(probe: Probe, gwOpts: Partial<GatewayOptions> = {}): Promise<number> {
  const server = await nodes.start({ identity: { name: "streamer" }, listen: { port: 0 } }, (n) => n.service(StreamTest, streamImpl(probe)));
  const gwNode = await nodes.start(withNodeOptions({ identity: { name: "gate-s" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } }, {}));
  const gw = createGateway({ node: gwNode, ...gwOpts });
  track(gw);
  return (await gw.start()).port;
}

/** SSE text -> [event, data] pairs (comments and retry lines skipped). */
function sseEvents(text: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const block of text.split("\n\n")) {
    let ev = "message";
    let data: string | undefined;
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) ev = line.slice(7);
      else if (line.startsWith("data: ")) data = line.slice(6);
    }
    if (data !== undefined) out.push([ev, JSON.parse(data)]);
  }
  return out;
}

describe("gateway: server streams", () => {
  it("answers text/event-stream: one message event per response, then an end event with the status", async () => {
    const port = await streamEnv(newProbe());
    const r = await post(port, "/api/StreamTest/Count", '{"count":3}');
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers["content-type"]), /^text\/event-stream/);
    assert.deepEqual(sseEvents(r.text), [
      ["message", {}],
      ["message", { n: 1 }],
      ["message", { n: 2 }],
      ["end", { code: "ok", message: "" }],
    ]);
  });

  it("answers NDJSON with Accept: application/x-ndjson", async () => {
    const port = await streamEnv(newProbe());
    const r = await post(port, "/api/StreamTest/Count", '{"count":2}', { accept: "application/x-ndjson" });
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers["content-type"]), /^application\/x-ndjson/);
    const lines = r.text.split("\n").filter((l) => l !== "");
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      [{ message: {} }, { message: { n: 1 } }, { end: { code: "ok", message: "" } }],
    );
  });

  it("a handler error ends the stream with its code, message and ret in the end event", async () => {
    const port = await streamEnv(newProbe());
    const r = await post(port, "/api/StreamTest/Count", '{"count":5,"failAfter":2}');
    assert.equal(r.status, 200);
    const ev = sseEvents(r.text);
    assert.deepEqual(
      ev.map((e) => e[0]),
      ["message", "message", "end"],
    );
    assert.deepEqual(ev[2]![1], { code: "failed_precondition", message: "failed on purpose", ret: 77 });
  });

  it("a clean end carries the handler's ret and trailing metadata in the end event, over SSE and NDJSON", async () => {
    const port = await streamEnv(newProbe());
    const sse = sseEvents((await post(port, "/api/StreamTest/Count", '{"count":1,"endRet":5}')).text);
    assert.deepEqual(sse[sse.length - 1], ["end", { code: "ok", message: "", ret: 5, trailer: END_TRAILER }]);
    const nd = (await post(port, "/api/StreamTest/Count", '{"count":1,"endRet":5}', { accept: "application/x-ndjson" })).text.split("\n").filter((l) => l !== "");
    assert.deepEqual(JSON.parse(nd[nd.length - 1]!), { end: { code: "ok", message: "", ret: 5, trailer: END_TRAILER } });
  });

  it("a failed end carries the error's trailing metadata beside its ret", async () => {
    const port = await streamEnv(newProbe());
    const ev = sseEvents((await post(port, "/api/StreamTest/Count", '{"count":5,"failAfter":1,"endRet":5}')).text);
    assert.deepEqual(ev[ev.length - 1], ["end", { code: "failed_precondition", message: "failed on purpose", ret: 77, trailer: END_TRAILER }]);
  });

  it("the end event never relays goms' own x-goms-* metadata: a refusal's retry hint, or keys a handler copied", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let running = 0;
    // One call at a time: a second stream is refused with resource_exhausted and x-goms-retry: elsewhere.
    const server = await nodes.start({ identity: { name: "one-at-a-time" }, listen: { port: 0 }, limits: { adaptiveConcurrency: { initialLimit: 1, minLimit: 1, maxLimit: 1 } } }, (n) =>
      n.service(StreamTest, {
        async *count(req, ctx) {
          running++;
          if (req.count === 0) await held;
          yield { n: 1 };
          Object.assign(ctx.responseMetadata, { "x-page": "2", "x-goms-retry": "elsewhere", "x-goms-gateway": ctx.metadata["x-goms-gateway"] ?? "" });
        },
      }),
    );
    const gwNode = await nodes.start({ identity: { name: "gate-md" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
    const gw = createGateway({ node: gwNode });
    track(gw);
    const port = (await gw.start()).port;

    const clean = sseEvents((await post(port, "/api/StreamTest/Count", '{"count":1}')).text);
    assert.deepEqual(clean[clean.length - 1], ["end", { code: "ok", message: "", trailer: { "x-page": "2" } }]);

    const holding = post(port, "/api/StreamTest/Count", '{"count":0}');
    await until(() => running === 2, 5000, "a stream holding the node's one slot");
    const refused = sseEvents((await post(port, "/api/StreamTest/Count", '{"count":1}')).text);
    assert.equal(running, 2, "the refused stream ran no handler");
    const [name, end] = refused[refused.length - 1]!;
    assert.equal(name, "end");
    assert.equal((end as { code: string }).code, "resource_exhausted");
    assert.equal((end as { reason: string }).reason, "GOMS_ERR_OVERLOADED");
    assert.equal((end as { trailer?: unknown }).trailer, undefined, "no x-goms-retry past the gateway");
    release();
    const last = sseEvents((await holding).text);
    assert.deepEqual(last[last.length - 1], ["end", { code: "ok", message: "", trailer: { "x-page": "2" } }]);
  });

  it("x-goms-timeout-ms covers the whole stream: deadline_exceeded in the end event", async () => {
    const probe = newProbe();
    const port = await streamEnv(probe);
    // A producer far larger than what the deadline lets through, read as fast as it comes.
    const r = await post(port, "/api/StreamTest/Count", '{"count":100000000}', { "x-goms-timeout-ms": "200" });
    const ev = sseEvents(r.text);
    const end = ev[ev.length - 1]!;
    assert.equal(end[0], "end");
    assert.equal((end[1] as { code: string }).code, "deadline_exceeded");
    await until(() => probe.finallyRan === 1, 5000, "the server generator's finally");
  });

  it("invalid JSON, unknown methods and client/bidi streams over POST get plain JSON errors", async () => {
    const port = await streamEnv(newProbe());
    assert.equal((await post(port, "/api/StreamTest/Count", '{"count":"x"}')).status, 400);
    assert.equal((await post(port, "/api/StreamTest/Nope", "{}")).status, 404);
    const bidi = await post(port, "/api/StreamTest/Echo", "{}");
    assert.equal(bidi.status, 400);
    assert.equal((bidi.json as { reason: string }).reason, "GOMS_ERR_STREAM_NEEDS_WEBSOCKET");
  });

  it("auth and CORS apply as for unary calls", async () => {
    const port = await streamEnv(newProbe(), { auth: [{ prefix: "/api/", apiKeys: ["k1"] }], cors: { origins: ["https://app.example"] } });
    assert.equal((await post(port, "/api/StreamTest/Count", '{"count":1}')).status, 401);
    assert.equal((await post(port, "/api/StreamTest/Count", '{"count":1}', { "x-api-key": "k1", origin: "https://evil.example" })).status, 403);
    const ok = await post(port, "/api/StreamTest/Count", '{"count":1}', { "x-api-key": "k1", origin: "https://app.example" });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(sseEvents(ok.text).length, 2);
  });

  it("a client that goes away cancels the upstream stream: the generator's finally runs", async () => {
    const probe = newProbe();
    const port = await streamEnv(probe);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/StreamTest/Count", headers: { "content-type": "application/json" } }, (res) => {
        let got = 0;
        res.on("data", (c: Buffer) => {
          got += c.length;
          // After a few events, hang up.
          if (got > 200) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", () => undefined);
      req.end('{"count":100000000,"size":16}');
      setTimeout(() => reject(new Error("no data")), 5000).unref();
    });
    await until(() => probe.finallyRan === 1 && probe.aborted === 1, 5000, "upstream canceled");
    assert.ok(probe.produced < 100_000_000);
  });

  it("OpenAPI documents server streams as text/event-stream and NDJSON", async () => {
    const port = await streamEnv(newProbe());
    const doc = (await request(port, "GET", "/openapi.json")).json as { paths: Record<string, { post: { responses: { "200": { content: Record<string, unknown> } } } }> };
    const count = doc.paths["/api/StreamTest/Count"];
    assert.ok(count !== undefined, "server stream listed");
    assert.deepEqual(Object.keys(count.post.responses["200"].content).sort(), ["application/x-ndjson", "text/event-stream"]);
    assert.equal(doc.paths["/api/StreamTest/Echo"], undefined, "bidi streams are not plain POSTs");
  });
});
