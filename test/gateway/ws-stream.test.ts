// Client and bidi streams over a WebSocket on the RPC path: one proto3-JSON
// message per WebSocket message, an empty message as half-close, the status in
// the close; the unary policies (auth, CORS, body size per message) apply.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { until } from "../helpers.js";
import { newProbe, streamImpl, type Probe } from "../streams/fixture.js";
import { createGateway, useGatewayEnv } from "./helpers.js";
import type { GatewayOptions } from "../../src/gateway/index.js";

const { nodes, track } = useGatewayEnv();

async function wsEnv(probe: Probe, gwOpts: Partial<GatewayOptions> = {}): Promise<number> {
  const server = await nodes.start({ identity: { name: "ws-streamer" }, listen: { port: 0 } }, (n) => n.service(StreamTest, streamImpl(probe)));
  const gwNode = await nodes.start({ identity: { name: "gate-ws" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  const gw = createGateway({ node: gwNode, ...gwOpts });
  track(gw);
  return (await gw.start()).port;
}

interface Outcome {
  messages: unknown[];
  code: number;
  reason: unknown;
}

/** Opens the socket, sends `send` (then the half-close unless `halfClose` is false), collects until the close. */
function exchange(port: number, path: string, send: string[], o: { halfClose?: boolean; headers?: Record<string, string> } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: o.headers ?? {} });
    const messages: unknown[] = [];
    ws.on("open", () => {
      for (const m of send) ws.send(m);
      if (o.halfClose !== false) ws.send("");
    });
    ws.on("message", (d) => messages.push(JSON.parse(String(d))));
    ws.on("close", (code, reason) => {
      const r = reason.toString();
      resolve({ messages, code, reason: r === "" ? undefined : JSON.parse(r) });
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on("error", () => undefined);
  });
}

describe("gateway: WebSocket streams", () => {
  it("bidi: each message echoed, then close 1000 with the ok status", async () => {
    const port = await wsEnv(newProbe());
    const r = await exchange(port, "/api/StreamTest/Echo", ['{"n":1}', '{"n":2}', '{"n":3,"payload":"AAE="}']);
    assert.deepEqual(r, { messages: [{ n: 1 }, { n: 2 }, { n: 3, payload: "AAE=" }], code: 1000, reason: { code: "ok", message: "" } });
  });

  it("more requests than the gateway reads ahead (it pauses the socket): all answered, then the close", async () => {
    const port = await wsEnv(newProbe());
    const send = Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i + 1 }));
    const r = await exchange(port, "/api/StreamTest/Echo", send);
    assert.equal(r.messages.length, 50);
    assert.equal(r.code, 1000);
  });

  it("client streaming: the one response after the half-close", async () => {
    const port = await wsEnv(newProbe());
    const r = await exchange(port, "/api/StreamTest/Sum", ['{"n":1}', '{"n":2}', '{"n":3}']);
    assert.deepEqual(r, { messages: [{ total: "6", messages: 3 }], code: 1000, reason: { code: "ok", message: "" } });
  });

  it("a clean end's ret is in the close reason (its trailing metadata is not sent)", async () => {
    const port = await wsEnv(newProbe());
    const bidi = await exchange(port, "/api/StreamTest/Echo", ['{"n":1,"endRet":6}']);
    assert.deepEqual(bidi, { messages: [{ n: 1, endRet: 6 }], code: 1000, reason: { code: "ok", message: "", ret: 6 } });
    const sum = await exchange(port, "/api/StreamTest/Sum", ['{"n":1}', '{"n":2,"endRet":6}']);
    assert.deepEqual(sum, { messages: [{ total: "3", messages: 2 }], code: 1000, reason: { code: "ok", message: "", ret: 6 } });
  });

  it("invalid JSON mid-stream: close 4003 (invalid_argument), and the handler ends", async () => {
    const probe = newProbe();
    const port = await wsEnv(probe);
    const r = await exchange(port, "/api/StreamTest/Echo", ['{"n":1}', "{not json"], { halfClose: false });
    assert.equal(r.code, 4003);
    assert.equal((r.reason as { code: string }).code, "invalid_argument");
    await until(() => probe.finallyRan === 1, 5000, "the handler's finally");
  });

  it("a message over maxBodyBytes closes with 1009; the handler ends", async () => {
    const probe = newProbe();
    const port = await wsEnv(probe, { maxBodyBytes: 1024 });
    const r = await exchange(port, "/api/StreamTest/Echo", ['{"n":1}', JSON.stringify({ n: 2, payload: Buffer.alloc(2048).toString("base64") })], { halfClose: false });
    assert.equal(r.code, 1009);
    await until(() => probe.finallyRan === 1, 5000, "the handler's finally");
  });

  it("a client that hangs up cancels the stream upstream", async () => {
    const probe = newProbe();
    const port = await wsEnv(probe);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/StreamTest/Echo`);
    await new Promise<void>((resolve) => ws.on("open", () => resolve()));
    ws.send('{"n":1}');
    await new Promise<void>((resolve) => ws.once("message", () => resolve()));
    ws.terminate();
    await until(() => probe.finallyRan === 1 && probe.aborted === 1, 5000, "upstream canceled");
  });

  it("auth, CORS and method kinds are checked before the upgrade", async () => {
    const port = await wsEnv(newProbe(), { auth: [{ prefix: "/api/", apiKeys: ["k1"] }], cors: { origins: ["https://app.example"] } });
    await assert.rejects(exchange(port, "/api/StreamTest/Echo", []), /HTTP 401/);
    await assert.rejects(exchange(port, "/api/StreamTest/Echo", [], { headers: { "x-api-key": "k1", origin: "https://evil.example" } }), /HTTP 403/);
    const ok = await exchange(port, "/api/StreamTest/Echo", ['{"n":5}'], { headers: { "x-api-key": "k1", origin: "https://app.example" } });
    assert.deepEqual(ok.messages, [{ n: 5 }]);
    await assert.rejects(exchange(port, "/api/StreamTest/Nope", [], { headers: { "x-api-key": "k1" } }), /HTTP 404/);
  });
});
