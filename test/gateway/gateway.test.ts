import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { post, request, useGatewayEnv } from "./helpers.js";

const { nodes, env, track } = useGatewayEnv();

describe("gateway: routes and transcoding", () => {
  it("answers the seed's two curls", async () => {
    const { port } = await env();
    // Exactly what `curl -X POST -d '...'` sends.
    const curl = { "content-type": "application/x-www-form-urlencoded" };
    const u = await post(port, "/api/DB/Update", '{"key":"123","value":"aaa"}', curl);
    assert.equal(u.status, 200);
    assert.equal(u.text, "{}");
    assert.equal(u.headers["content-type"], "application/json");
    assert.equal(u.headers["x-goms-ret"], "0");
    const q = await post(port, "/api/DB/Query", '{"key":"123"}', curl);
    assert.equal(q.status, 200);
    assert.equal(q.text, '{"value":"aaa"}');
  });

  it("is lenient about the first letter and accepts fully-qualified names", async () => {
    const { port } = await env();
    assert.equal((await post(port, "/api/dB/update", '{"key":"k","value":"v"}')).status, 200);
    assert.equal((await post(port, "/api/db/query", '{"key":"k"}')).status, 404); // only the first letter
    assert.equal((await post(port, "/api/dB/query", '{"key":"k"}')).text, '{"value":"v"}');
    assert.equal((await post(port, "/api/goms.examples.v1.DB/Query", '{"key":"k"}')).text, '{"value":"v"}');
    // An empty body is {}.
    assert.equal((await request(port, "POST", "/api/DB/Query")).text, "{}");
  });

  it("maps errors to statuses with a JSON body", async () => {
    const { port, db } = await env();
    const cases: Array<[string, string, number, string]> = [
      ["/api/DB/Query", '{"key":', 400, "invalid_argument"],
      ["/api/DB/Query", '{"key":123}', 400, "invalid_argument"],
      ["/api/DB/Query", '{"nope":"x"}', 400, "invalid_argument"],
      ["/api/DB/Query", "[1,2]", 400, "invalid_argument"],
      ["/api/Nope/Query", "{}", 404, "not_found"],
      ["/api/DB/Nope", "{}", 404, "unimplemented"],
      ["/api/DB", "{}", 404, "not_found"],
      ["/elsewhere", "{}", 404, "not_found"],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await post(port, path, body);
      assert.equal(r.status, status, `${path} ${body}: ${r.text}`);
      assert.equal((r.json as { code: string }).code, code, r.text);
      assert.equal(typeof (r.json as { message: string }).message, "string");
      assert.equal(r.headers["content-type"], "application/json");
    }
    // ret on success, and error body with ret.
    const ok = await post(port, "/api/DB/Query", '{"key":"ret"}');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["x-goms-ret"], "7");
    const bad = await post(port, "/api/DB/Query", '{"key":"fail"}');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { code: "failed_precondition", message: "not in this state", ret: 9 });
    assert.equal(bad.headers["x-goms-ret"], "9");
    // Handler deadline -> 504.
    const slow = await post(port, "/api/DB/Query", '{"key":"slow"}', { "x-goms-timeout-ms": "100" });
    assert.equal(slow.status, 504, slow.text);
    assert.equal((slow.json as { code: string }).code, "deadline_exceeded");
    assert.equal((await post(port, "/api/DB/Query", "{}", { "x-goms-timeout-ms": "soon" })).status, 400);
    // Node down -> 503.
    await db.close({ graceMs: 0 });
    const down = await post(port, "/api/DB/Query", '{"key":"a"}', { "x-goms-timeout-ms": "2000" });
    assert.equal(down.status, 503, down.text);
    assert.equal((down.json as { code: string }).code, "unavailable");
  });

  it("emits proto3 JSON (int64 as strings) both ways", async () => {
    const { port } = await env();
    // NodeService is hidden; DB only has strings, so check escaping round-trips instead.
    const v = 'quote " and \\ and ünïcødé';
    await post(port, "/api/DB/Update", JSON.stringify({ key: "u", value: v }));
    assert.deepEqual((await post(port, "/api/DB/Query", '{"key":"u"}')).json, { value: v });
    assert.equal((await post(port, "/api/NodeService/Info", "{}")).status, 404);
  });

  it("enforces method, content type and body size", async () => {
    const { port } = await env({ maxBodyBytes: 1024 });
    const g = await request(port, "GET", "/api/DB/Query");
    assert.equal(g.status, 405);
    assert.equal(g.headers.allow, "POST, OPTIONS");
    assert.equal((g.json as { code: string }).code, "invalid_argument");
    const t = await post(port, "/api/DB/Query", "key=1", { "content-type": "text/plain" });
    assert.equal(t.status, 415);
    assert.equal((await post(port, "/api/DB/Query", "<a/>", { "content-type": "application/xml" })).status, 415);
    assert.equal((await post(port, "/api/DB/Query", '{"key":"x"}', { "content-type": "application/problem+json" })).status, 200);
    // curl -d's default type is accepted, but the body must still be JSON.
    assert.equal((await post(port, "/api/DB/Query", "key=1", { "content-type": "application/x-www-form-urlencoded" })).status, 400);
    assert.equal((await post(port, "/api/DB/Query", '{"key":"x"}', { "content-type": "application/json; charset=utf-8" })).status, 200);
    const big = await post(port, "/api/DB/Update", JSON.stringify({ key: "k", value: "x".repeat(2000) }));
    assert.equal(big.status, 413);
    assert.deepEqual(big.json, { code: "resource_exhausted", message: "request body exceeds 1024 bytes", reason: "GOMS_ERR_BODY_TOO_LARGE" });
    assert.equal(big.headers.connection, "close");
    assert.equal((await request(port, "POST", "/healthz")).status, 405);
    // Without Content-Length (chunked), the limit applies while reading.
    const chunked = await post(port, "/api/DB/Update", JSON.stringify({ key: "k", value: "y".repeat(4000) }), { "transfer-encoding": "chunked" });
    assert.equal(chunked.status, 413);
    assert.equal((chunked.json as { reason: string }).reason, "GOMS_ERR_BODY_TOO_LARGE");
  });

  it("keeps one connection's calls from piling up abort listeners", async () => {
    const { port } = await env();
    const warnings: Error[] = [];
    const onWarn = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarn);
    try {
      for (let i = 0; i < 30; i++) assert.equal((await post(port, "/api/DB/Query", "{}")).status, 200);
    } finally {
      process.off("warning", onWarn);
    }
    assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w.name + w.message)), []);
  });

  it("puts query parameters, forwarded headers and the client IP into metadata", async () => {
    const { port } = await env({ forwardHeaders: ["x-request-id"] });
    const r = await post(port, "/api/DB/Query?Region=eu&tag=a&tag=b", '{"key":"md"}', { "x-request-id": "r-1", "x-other": "no" });
    const md = JSON.parse((r.json as { value: string }).value) as Record<string, string>;
    assert.equal(md["q.region"], "eu");
    assert.equal(md["q.tag"], "a,b");
    assert.equal(md["x-request-id"], "r-1");
    assert.equal(md["x-other"], undefined);
    assert.equal(md["x-client-ip"], "127.0.0.1");
    assert.equal(md["x-goms-gateway"], "gate0");
  });

  it("serves healthz, readyz and openapi.json", async () => {
    const { port } = await env();
    assert.deepEqual((await request(port, "GET", "/healthz")).json, { status: "ok" });
    const ready = await request(port, "GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { status: "ready", nodes: 1, services: { "goms.examples.v1.DB": 1 } });
    const o = await request(port, "GET", "/openapi.json");
    assert.equal(o.status, 200);
    const doc = o.json as {
      openapi: string;
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { type: string; properties: Record<string, { type: string }> }> };
    };
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/api/DB/Query", "/api/DB/Update", "/api/DB/Watch"]);
    const ref = doc.paths["/api/DB/Query"]!.post.requestBody.content["application/json"]!.schema.$ref;
    assert.equal(ref, "#/components/schemas/goms.examples.v1.QueryRequest");
    assert.deepEqual(doc.components.schemas["goms.examples.v1.QueryRequest"]!.properties, { key: { type: "string" } });
    assert.ok(doc.paths["/api/DB/Query"]!.post.responses["200"]);
    // Every $ref resolves.
    for (const m of o.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(doc.components.schemas[m[1]!], m[1]);
  });

  it("readyz is 503 without backends", async () => {
    const gwNode = await nodes.start({ identity: { name: "lonely" } });
    const { createGateway } = await import("../../src/gateway/index.js");
    const gw = createGateway({ node: gwNode });
    track(gw);
    const port = (await gw.start()).port;
    assert.equal((await request(port, "GET", "/readyz")).status, 503);
    assert.equal((await post(port, "/api/DB/Query", "{}")).status, 404);
  });
});
