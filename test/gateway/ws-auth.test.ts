// Browser auth on WebSocket streams: browsers cannot set headers on a
// WebSocket, so the token travels as a subprotocol next to goms.v1
// (`goms.bearer.<base64url>`, or `goms.apikey.<base64url>`); the gateway
// authenticates the upgrade with it, echoes goms.v1 only, and CORS still
// applies. goms/web sends it from its token/getToken options.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { createWebClient, Code, GomsError, type WebSocketFactory } from "../../src/web/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet } from "../helpers.js";
import { startWebEnv, type WebEnv } from "../web/env.js";
import { wsExchange } from "./ws-exchange.js";
import type { GatewayOptions } from "../../src/gateway/index.js";

const SECRET = "ws-auth-test-secret-of-32-bytes!";
const ORIGIN = "https://app.example";
const nodes = new NodeSet();
const envs: WebEnv[] = [];
after(async () => {
  await Promise.all(envs.map((e) => e.gw.close()));
  await nodes.closeAll();
});

async function env(o: Partial<GatewayOptions>): Promise<WebEnv> {
  const e = await startWebEnv(nodes, { cors: { origins: [ORIGIN] }, ...o });
  envs.push(e);
  return e;
}

function jwt(sub: string): Promise<string> {
  return new SignJWT({ sub }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
}

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64url");

/** Opens a WebSocket to Echo offering `protocols`, sends one message and the half-close. */
function open(baseUrl: string, protocols: string[], headers: Record<string, string> = {}): Promise<{ status: number; protocol: string | undefined; body: string; echoed: unknown[] }> {
  return wsExchange(`${baseUrl.replace(/^http/, "ws")}/api/StreamTest/Echo`, { protocols, headers, send: ['{"n":7}'] }).then((r) => ({ ...r, echoed: r.messages }));
}

describe("gateway: auth on WebSocket upgrades from browsers", () => {
  it("a bearer token as a subprotocol authenticates the upgrade; only goms.v1 is echoed", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    const token = await jwt("alice");
    const ok = await open(baseUrl, ["goms.v1", `goms.bearer.${b64(token)}`], { origin: ORIGIN });
    assert.deepEqual([ok.status, ok.protocol, ok.echoed], [101, "goms.v1", [{ n: 7 }]]);
    // Offered first, the token is still never echoed.
    const first = await open(baseUrl, [`goms.bearer.${b64(token)}`, "goms.v1"]);
    assert.deepEqual([first.status, first.protocol], [101, "goms.v1"]);
  });

  it("a missing, invalid or malformed token is refused with 401 before the upgrade", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    const none = await open(baseUrl, ["goms.v1"]);
    assert.equal(none.status, 401);
    assert.match(none.body, /missing bearer token/);
    const wrong = await open(baseUrl, ["goms.v1", `goms.bearer.${b64("not.a.jwt")}`]);
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /invalid token/);
    const malformed = await open(baseUrl, ["goms.v1", "goms.bearer.a.b"]);
    assert.equal(malformed.status, 401);
    assert.match(malformed.body, /malformed goms\.bearer\./);
  });

  it("CORS applies to upgrades: a valid token from an origin not allowed gets 403", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    const r = await open(baseUrl, ["goms.v1", `goms.bearer.${b64(await jwt("alice"))}`], { origin: "https://evil.example" });
    assert.equal(r.status, 403);
  });

  it("an API key as goms.apikey.<base64url>; a header actually sent wins over the subprotocol", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", apiKeys: ["k 1/é"] }] });
    assert.equal((await open(baseUrl, ["goms.v1", `goms.apikey.${b64("k 1/é")}`])).status, 101);
    assert.equal((await open(baseUrl, ["goms.v1", `goms.apikey.${b64("k 1/é")}`], { "x-api-key": "wrong" })).status, 401);
  });

  it("a plain POST is not authenticated by a subprotocol header", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    const res = await fetch(`${baseUrl}/api/DB/Query`, {
      method: "POST",
      headers: { "content-type": "application/json", "sec-websocket-protocol": `goms.v1, goms.bearer.${b64(await jwt("alice"))}` },
      body: '{"key":"a"}',
    });
    assert.equal(res.status, 401);
  });
});

describe("gateway: a deadline on WebSocket upgrades from browsers", () => {
  it("goms.timeout.<ms> sets the stream's deadline at the nodes, as x-goms-timeout-ms does", async () => {
    // The gateway's own default is far longer than the test, so only the offered deadline can end the stream.
    const { baseUrl } = await env({ defaultTimeoutMs: 60_000 });
    const url = `${baseUrl.replace(/^http/, "ws")}/api/StreamTest/Echo`;
    // No half-close: the Echo handler waits for requests until its deadline.
    const timedOut = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the offered deadline was not applied")), 20_000).unref());
    const r = await Promise.race([wsExchange(url, { protocols: ["goms.v1", "goms.timeout.300"], halfClose: false }), timedOut]);
    assert.equal(r.protocol, "goms.v1");
    assert.equal(r.code, 4000 + Code.DeadlineExceeded, r.reason);
    assert.match(r.reason, /deadline_exceeded/);
    const bad = await wsExchange(url, { protocols: ["goms.v1", "goms.timeout.soon"] });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /GOMS_ERR_BAD_HEADER/);
  });

  it("goms/web offers its timeoutMs as goms.timeout.<ms>", async () => {
    const { baseUrl } = await env({ defaultTimeoutMs: 60_000 });
    const offered: string[] = [];
    class Spy extends WebSocket {
      constructor(url: string, protocols: string[]) {
        offered.push(...protocols);
        super(url, protocols);
      }
    }
    const st = createWebClient(StreamTest, { baseUrl, WebSocket: Spy as unknown as WebSocketFactory });
    async function* one() {
      yield { n: 1 };
    }
    const got: number[] = [];
    for await (const r of st.echo(one(), { timeoutMs: 5_000 })) got.push(r.n);
    assert.deepEqual(got, [1]);
    assert.deepEqual(offered, ["goms.v1", "goms.timeout.5000"]);
  });
});

describe("goms/web: token and getToken", () => {
  const ws = WebSocket as unknown as WebSocketFactory;
  async function* items(n: number) {
    for (let i = 1; i <= n; i++) yield { n: i };
  }

  it("the token goes as Authorization on fetch and as a subprotocol on WebSockets", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    const token = await jwt("bob");
    const st = createWebClient(StreamTest, { baseUrl, WebSocket: ws, token });
    const got: number[] = [];
    for await (const r of st.echo(items(5))) got.push(r.n);
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.equal((await st.sum(items(3))).total, 6n);
    const counted: number[] = [];
    for await (const r of st.count({ count: 3 })) counted.push(r.n);
    assert.deepEqual(counted, [0, 1, 2]);
    const db = createWebClient(DB, { baseUrl, token });
    await db.update({ key: "k", value: "v" });
  });

  it("getToken is asked before each call; without a token the stream fails", async () => {
    const { baseUrl } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET } }] });
    let asked = 0;
    const getToken = async (): Promise<string> => {
      asked++;
      return jwt("carol");
    };
    const st = createWebClient(StreamTest, { baseUrl, WebSocket: ws, getToken });
    for (let i = 0; i < 2; i++) assert.equal((await st.sum(items(2))).total, 3n);
    assert.equal(asked, 2);
    // A refused upgrade: browsers show no HTTP status for it, only a close (1006), so the error is unavailable.
    const anon = createWebClient(StreamTest, { baseUrl, WebSocket: ws });
    await assert.rejects(anon.sum(items(2)), (e: unknown) => GomsError.is(e) && e.code === Code.Unavailable);
    await assert.rejects(createWebClient(DB, { baseUrl }).query({ key: "k" }), (e: unknown) => GomsError.is(e) && e.code === Code.Unauthenticated);
  });
});
