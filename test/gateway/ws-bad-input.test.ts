// Bad input on gateway streams (issue 11): a request that is not JSON, or too
// big, gets a clear error and no handler runs (SSE/NDJSON); on a WebSocket a
// message that is not JSON, or not text, closes the stream with 4003
// (invalid_argument) and ends the handler. The size limit per WebSocket
// message and invalid JSON mid-bidi are in ws-stream.test.ts.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { NodeSet, until } from "../helpers.js";
import { startWebEnv, type WebEnv } from "../web/env.js";
import { post } from "./helpers.js";
import { wsExchange } from "./ws-exchange.js";

const nodes = new NodeSet();
const envs: WebEnv[] = [];
after(async () => {
  await Promise.all(envs.map((e) => e.gw.close()));
  await nodes.closeAll();
});

async function env(): Promise<{ e: WebEnv; port: number }> {
  const e = await startWebEnv(nodes, { maxBodyBytes: 4096 });
  envs.push(e);
  return { e, port: Number(new URL(e.baseUrl).port) };
}

const statusOf = (reason: string): { code: string; reason?: string } => JSON.parse(reason) as { code: string; reason?: string };

describe("gateway streams: bad request bodies and messages", () => {
  for (const accept of ["text/event-stream", "application/x-ndjson"]) {
    it(`${accept}: a body that is not JSON is 400, one over maxBodyBytes 413; no handler runs`, async () => {
      const { e, port } = await env();
      const bad = await post(port, "/api/StreamTest/Count", '{"count":', { accept });
      assert.equal(bad.status, 400, bad.text);
      assert.equal((bad.json as { code: string }).code, "invalid_argument");
      const big = await post(port, "/api/StreamTest/Count", JSON.stringify({ count: 1, pad: "x".repeat(8192) }), { accept });
      assert.equal(big.status, 413, big.text);
      assert.deepEqual([e.probe.produced, e.probe.finallyRan], [0, 0], "no handler ran");
    });
  }

  it("WebSocket: a first message that is not JSON closes with 4003; the client-stream handler ends", async () => {
    const { e } = await env();
    const r = await wsExchange(`${e.baseUrl.replace(/^http/, "ws")}/api/StreamTest/Sum`, { send: ["{not json"], halfClose: false });
    assert.equal(r.code, 4003);
    assert.equal(statusOf(r.reason).code, "invalid_argument");
    await until(() => e.probe.finallyRan === 1, 5000, "the handler's finally");
    assert.equal(e.probe.received, 0);
  });

  it("WebSocket: a binary message closes with 4003 (send proto3 JSON as text)", async () => {
    const { e } = await env();
    const r = await wsExchange(`${e.baseUrl.replace(/^http/, "ws")}/api/StreamTest/Echo`, { send: ['{"n":1}', Buffer.from([8, 1])], halfClose: false });
    assert.equal(r.code, 4003);
    const st = statusOf(r.reason);
    assert.deepEqual([st.code, st.reason], ["invalid_argument", "GOMS_ERR_UNSUPPORTED_MEDIA_TYPE"]);
    await until(() => e.probe.finallyRan === 1, 5000, "the handler's finally");
  });
});
