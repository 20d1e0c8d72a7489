import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { exportJWK, SignJWT, type JWK } from "jose";
import { post, request, useGatewayEnv } from "./helpers.js";

const { env } = useGatewayEnv();

const SECRET = "an HS256 secret that is long enough for the test";

function hs(claims: Record<string, unknown>, exp: string | number = "1m", secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer("goms-test").setAudience("gateway").setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

describe("gateway: CORS", () => {
  it("denies cross-origin requests by default", async () => {
    const { port } = await env();
    const r = await post(port, "/api/DB/Query", "{}", { origin: "https://evil.example" });
    assert.equal(r.status, 403);
    assert.equal(r.headers["access-control-allow-origin"], undefined);
    const pre = await request(port, "OPTIONS", "/api/DB/Query", undefined, { origin: "https://evil.example", "access-control-request-method": "POST" });
    assert.equal(pre.status, 403);
    assert.equal(pre.headers["access-control-allow-origin"], undefined);
    // Same-origin tools (curl) send no Origin and are unaffected.
    assert.equal((await post(port, "/api/DB/Query", "{}")).status, 200);
    // A page served by the gateway's own host:port sends its Origin on POST: same-origin, allowed, no CORS headers.
    const same = await post(port, "/api/DB/Query", "{}", { origin: `http://127.0.0.1:${port}` });
    assert.equal(same.status, 200);
    assert.equal(same.headers["access-control-allow-origin"], undefined);
    assert.equal((await post(port, "/api/DB/Query", "{}", { origin: `http://127.0.0.1:${port + 1}` })).status, 403);
  });

  it("allows listed origins, with preflight", async () => {
    const { port } = await env({ cors: { origins: ["https://app.example"] } });
    const pre = await request(port, "OPTIONS", "/api/DB/Query", undefined, {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, authorization",
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(pre.headers["access-control-allow-methods"]), /POST/);
    assert.match(String(pre.headers["access-control-allow-headers"]), /content-type/);
    const bad = await request(port, "OPTIONS", "/api/DB/Query", undefined, {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "x-secret-thing",
    });
    assert.equal(bad.status, 403);
    const r = await post(port, "/api/DB/Query", "{}", { origin: "https://app.example" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(r.headers["access-control-expose-headers"]), /x-goms-ret/);
    assert.equal((await post(port, "/api/DB/Query", "{}", { origin: "https://other.example" })).status, 403);
  });
});

describe("gateway: auth", () => {
  it("JWT HS256: valid, invalid, expired, wrong audience; sub reaches metadata", async () => {
    const { port } = await env({ auth: [{ prefix: "/api/", jwt: { secret: SECRET, issuer: "goms-test", audience: "gateway" } }] });
    const ok = await post(port, "/api/DB/Query", '{"key":"md"}', { authorization: `Bearer ${await hs({ sub: "alice" })}` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((JSON.parse((ok.json as { value: string }).value) as Record<string, string>)["x-goms-sub"], "alice");
    const none = await post(port, "/api/DB/Query", "{}");
    assert.equal(none.status, 401);
    assert.equal((none.json as { code: string }).code, "unauthenticated");
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: "Bearer not.a.jwt" })).status, 401);
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: `Bearer ${await hs({ sub: "a" }, "1m", "another secret, not ours, also long")}` })).status, 401);
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: `Bearer ${await hs({ sub: "a" }, Math.floor(Date.now() / 1000) - 60)}` })).status, 401);
    const wrongAud = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "HS256" }).setIssuer("goms-test").setAudience("other").setExpirationTime("1m").sign(new TextEncoder().encode(SECRET));
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: `Bearer ${wrongAud}` })).status, 401);
    // Unknown routes ask for credentials before saying not found.
    assert.equal((await post(port, "/api/Secret/Thing", "{}")).status, 401);
    // A client-sent x-goms-sub is never trusted.
    const forged = await post(port, "/api/DB/Query", '{"key":"md"}', { authorization: `Bearer ${await hs({ sub: "bob" })}`, "x-goms-sub": "root" });
    assert.equal((JSON.parse((forged.json as { value: string }).value) as Record<string, string>)["x-goms-sub"], "bob");
  });

  it("JWT RS256 with a JWKS", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const { port } = await env({ auth: [{ prefix: "/api/DB/", jwt: { jwks: { keys: [jwk] }, audience: "gateway" } }] });
    const t = await new SignJWT({ sub: "svc" }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setAudience("gateway").setExpirationTime("1m").sign(privateKey);
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: `Bearer ${t}` })).status, 200);
    assert.equal((await post(port, "/api/DB/Query", "{}", { authorization: `Bearer ${await hs({ sub: "x" })}` })).status, 401);
    // The rule matches the canonical route whatever spelling the client used.
    assert.equal((await post(port, "/api/dB/query", "{}")).status, 401);
    assert.equal((await post(port, "/api/goms.examples.v1.DB/Query", "{}")).status, 401);
  });

  it("API keys per prefix; other prefixes stay public", async () => {
    const { port } = await env({ auth: [{ prefix: "/api/DB/Update", apiKeys: [{ key: "k-123", name: "ops" }] }, { prefix: "/api/DB/Query" }] });
    assert.equal((await post(port, "/api/DB/Update", '{"key":"a","value":"b"}')).status, 401);
    assert.equal((await post(port, "/api/DB/Update", '{"key":"a","value":"b"}', { "x-api-key": "k-12" })).status, 401);
    assert.equal((await post(port, "/api/DB/Update", '{"key":"a","value":"b"}', { "x-api-key": "k-123" })).status, 200);
    const md = await post(port, "/api/DB/Query", '{"key":"md"}');
    assert.equal(md.status, 200);
    assert.equal((JSON.parse((md.json as { value: string }).value) as Record<string, string>)["x-goms-sub"], undefined);
  });
});

describe("gateway: rate limits and client address", () => {
  it("limits per client IP with 429 and retry-after", async () => {
    const { port } = await env({ rateLimit: { perIp: { ratePerSec: 1, burst: 3 } } });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await post(port, "/api/DB/Query", "{}");
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(last!.headers["retry-after"], "1");
    assert.equal((last!.json as { code: string }).code, "resource_exhausted");
  });

  it("limits per route", async () => {
    const { port } = await env({ rateLimit: { perRoute: { ratePerSec: 1, burst: 2 } } });
    assert.equal((await post(port, "/api/DB/Query", "{}")).status, 200);
    assert.equal((await post(port, "/api/DB/Query", "{}")).status, 200);
    assert.equal((await post(port, "/api/DB/Query", "{}")).status, 429);
    assert.equal((await post(port, "/api/DB/Update", "{}")).status, 200);
  });

  it("believes X-Forwarded-For only from trusted proxies", async () => {
    const ipOf = async (port: number, xff: string): Promise<string | undefined> => {
      const r = await post(port, "/api/DB/Query", '{"key":"md"}', { "x-forwarded-for": xff });
      return (JSON.parse((r.json as { value: string }).value) as Record<string, string>)["x-client-ip"];
    };
    const untrusted = await env();
    assert.equal(await ipOf(untrusted.port, "203.0.113.9"), "127.0.0.1");
    await untrusted.gw.close();
    const trusted = await env({ trustedProxies: ["127.0.0.0/8", "10.0.0.0/8"] });
    assert.equal(await ipOf(trusted.port, "203.0.113.9"), "203.0.113.9");
    // Right to left, skipping trusted hops; a client-forged leftmost entry is ignored.
    assert.equal(await ipOf(trusted.port, "1.1.1.1, 203.0.113.9, 10.1.2.3"), "203.0.113.9");
  });
});
