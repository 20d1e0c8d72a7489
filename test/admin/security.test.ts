import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAdmin, type Admin } from "../../src/admin/index.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { type GomsError } from "../../src/errors/index.js";
import { failure, http, login } from "./client.js";
import { FakeStore } from "./store-double.js";

describe("admin security (real HTTP)", () => {
  let dir: string;
  let node: GomsNode;
  let admin: Admin;
  let base: string;
  const store = new FakeStore();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "goms-admin-sec-"));
    node = await createNode({ identity: { name: "admin-test" }, listen: { port: 0 } }).start();
    admin = await createAdmin({ node, store, dataDir: dir, listen: { port: 0 }, supervisors: [{ name: "local", url: "http://u:p@127.0.0.1:1" }], pollMs: 60_000 }).start();
    base = admin.url;
  });
  after(async () => {
    await admin.close();
    await node.close({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });

  it("has no default password: first start hands out a one-time setup token", async () => {
    assert.ok(admin.setupToken && admin.setupToken.length >= 20);
    assert.equal((await http(base, "GET", "/api/setup")).body["needed"], true);
    assert.deepEqual(failure(await http(base, "POST", "/api/login", { body: { user: "admin", password: "admin" } })), [401, "GOMS_ERR_BAD_CREDENTIALS"]);
    const bad = await http(base, "POST", "/api/setup", { body: { token: "nope", user: "root", password: "correct horse battery" } });
    assert.deepEqual(failure(bad), [403, "GOMS_ERR_BAD_SETUP_TOKEN"]);
    const weak = await http(base, "POST", "/api/setup", { body: { token: admin.setupToken, user: "root", password: "short" } });
    assert.deepEqual(failure(weak), [400, "GOMS_ERR_BAD_FIELD"]);
    const ok = await http(base, "POST", "/api/setup", { body: { token: admin.setupToken, user: "root", password: "correct horse battery" } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(ok.cookie ?? "", /^goms_admin=/);
    assert.equal(admin.setupToken, undefined);
    const again = await http(base, "POST", "/api/setup", { body: { token: "x", user: "root2", password: "correct horse battery" } });
    assert.equal(again.status, 409);
    assert.deepEqual(again.body, { code: "already_exists", message: "setup already done", reason: "GOMS_ERR_SETUP_DONE" });
    const users = JSON.parse(await readFile(join(dir, "users.json"), "utf8")) as { users: { name: string; hash: string }[] };
    assert.equal(users.users[0]!.name, "root");
    assert.ok(!JSON.stringify(users).includes("correct horse"), "password stored hashed");
  });

  it("cookie is HttpOnly, SameSite=Strict", async () => {
    const r = await fetch(base + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "root", password: "correct horse battery" }) });
    const sc = r.headers.get("set-cookie") ?? "";
    assert.match(sc, /HttpOnly/);
    assert.match(sc, /SameSite=Strict/);
  });

  it("rejects every /api/* without a session with 401", async () => {
    for (const p of ["/api/nodes", "/api/services", "/api/processes", "/api/audit", "/api/events", "/api/session", "/api/nodes/x/series", "/api/processes/local/db0/log"]) {
      assert.deepEqual(failure(await http(base, "GET", p)), [401, "GOMS_ERR_NOT_LOGGED_IN"], p);
    }
    for (const p of ["/api/call", "/api/processes/local/db0/restart", "/api/logout", "/api/users"]) {
      assert.deepEqual(failure(await http(base, "POST", p, { body: {} })), [401, "GOMS_ERR_NOT_LOGGED_IN"], p);
    }
    // A forged cookie is no session either.
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: "goms_admin=eyJzaWQiOiJ4IiwidXNlciI6InJvb3QiLCJleHAiOjk5OTk5OTk5OTk5OTl9.AAAA" })).status, 401);
  });

  it("rejects POST without the CSRF token with 403", async () => {
    const s = await login(base, "root", "correct horse battery");
    const r = await http(base, "POST", "/api/users", { cookie: s.cookie, body: { user: "vera", role: "viewer", password: "viewer password 1" } });
    assert.deepEqual(failure(r), [403, "GOMS_ERR_CSRF"]);
    const wrong = await http(base, "POST", "/api/users", { cookie: s.cookie, csrf: "x".repeat(43), body: { user: "vera", role: "viewer", password: "viewer password 1" } });
    assert.equal(wrong.status, 403);
    const ok = await http(base, "POST", "/api/users", { cookie: s.cookie, csrf: s.csrf, body: { user: "vera", role: "viewer", password: "viewer password 1" } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const ok2 = await http(base, "POST", "/api/users", { cookie: s.cookie, csrf: s.csrf, body: { user: "otto", role: "operator", password: "operator password 1" } });
    assert.equal(ok2.status, 200);
  });

  it("a viewer may read but not control processes or call methods (403)", async () => {
    const v = await login(base, "vera", "viewer password 1");
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: v.cookie })).status, 200);
    assert.equal((await http(base, "GET", "/api/audit", { cookie: v.cookie })).status, 200);
    for (const a of ["start", "stop", "restart", "drain"]) {
      assert.deepEqual(failure(await http(base, "POST", `/api/processes/local/db0/${a}`, { cookie: v.cookie, csrf: v.csrf, body: {} })), [403, "GOMS_ERR_ROLE_TOO_LOW"], a);
    }
    assert.equal((await http(base, "POST", "/api/call", { cookie: v.cookie, csrf: v.csrf, body: { service: "DB", method: "Query", request: {} } })).status, 403);
    assert.equal((await http(base, "POST", "/api/users", { cookie: v.cookie, csrf: v.csrf, body: {} })).status, 403);
    // An operator gets past authorization (then fails on the unreachable supervisor: 502).
    const o = await login(base, "otto", "operator password 1");
    assert.deepEqual(failure(await http(base, "POST", "/api/processes/local/db0/stop", { cookie: o.cookie, csrf: o.csrf, body: {} })), [502, "GOMS_ERR_SUPERVISOR_FAILED"]);
    assert.equal((await http(base, "POST", "/api/users", { cookie: o.cookie, csrf: o.csrf, body: {} })).status, 403);
  });

  it("requires JSON content-type on login (no simple cross-site form posts)", async () => {
    const r = await http(base, "POST", "/api/login", { body: { user: "root", password: "correct horse battery" }, contentType: "text/plain" });
    assert.deepEqual(failure(r), [415, "GOMS_ERR_UNSUPPORTED_MEDIA_TYPE"]);
  });

  it("answers bad requests with {code, message, reason} and the right status", async () => {
    const s = await login(base, "root", "correct horse battery");
    const raw = await fetch(base + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":' });
    const body = (await raw.json()) as Record<string, unknown>;
    assert.equal(raw.status, 400);
    assert.equal(raw.headers.get("content-type"), "application/json");
    assert.equal(raw.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual([body["code"], body["reason"], typeof body["message"]], ["invalid_argument", "GOMS_ERR_BAD_JSON", "string"]);
    assert.deepEqual(failure(await http(base, "POST", "/api/login", { body: [1] })), [400, "GOMS_ERR_BAD_JSON"]);
    assert.deepEqual(failure(await http(base, "POST", "/api/login", { body: { user: 1 } })), [400, "GOMS_ERR_BAD_FIELD"]);
    // The login body limit is 16 KiB: refused from the Content-Length, before reading.
    const big = await http(base, "POST", "/api/login", { body: { user: "x".repeat(20_000), password: "p" } });
    assert.deepEqual(failure(big), [413, "GOMS_ERR_BODY_TOO_LARGE"]);
    assert.deepEqual(failure(await http(base, "GET", "/api/nope", { cookie: s.cookie })), [404, "GOMS_ERR_NO_ROUTE"]);
    const wrongMethod = await fetch(base + "/api/login");
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    assert.equal(((await wrongMethod.json()) as Record<string, unknown>)["reason"], "GOMS_ERR_METHOD_NOT_ALLOWED");
    assert.deepEqual(failure(await http(base, "GET", "/metrics")), [404, "GOMS_ERR_NOT_CONFIGURED"]);
    assert.deepEqual(failure(await http(base, "GET", "/api/registry", { cookie: s.cookie })), [404, "GOMS_ERR_NOT_CONFIGURED"]);
    assert.deepEqual(failure(await http(base, "GET", "/api/nodes/nope/series", { cookie: s.cookie })), [404, "GOMS_ERR_NO_MONITOR_DATA"]);
    assert.deepEqual(failure(await http(base, "POST", "/api/processes/local/db0/explode", { cookie: s.cookie, csrf: s.csrf, body: {} })), [404, "GOMS_ERR_UNKNOWN_ACTION"]);
    assert.deepEqual(failure(await http(base, "POST", "/api/processes/nohost/db0/stop", { cookie: s.cookie, csrf: s.csrf, body: {} })), [404, "GOMS_ERR_UNKNOWN_SUPERVISOR"]);
    const call = await http(base, "POST", "/api/call", { cookie: s.cookie, csrf: s.csrf, body: { service: "Nope", method: "Query", request: {} } });
    assert.deepEqual([call.status, call.body["code"], call.body["reason"]], [404, "unimplemented", "GOMS_ERR_UNKNOWN_METHOD"]);
  });

  it("throttles wrong passwords per user+IP, exponentially, even for the right password", async () => {
    const statuses: Array<[number, unknown]> = [];
    for (let i = 0; i < 4; i++) statuses.push(failure(await http(base, "POST", "/api/login", { body: { user: "vera", password: "wrong password!" } })));
    assert.deepEqual(statuses, [...Array<[number, string]>(3).fill([401, "GOMS_ERR_BAD_CREDENTIALS"]), [429, "GOMS_ERR_TOO_MANY_ATTEMPTS"]]);
    const locked = await fetch(base + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "vera", password: "viewer password 1" }) });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get("retry-after")) >= 1);
    // Another user from the same IP is not locked out.
    await login(base, "otto", "operator password 1");
  });

  it("logout revokes the session", async () => {
    const s = await login(base, "otto", "operator password 1");
    assert.equal((await http(base, "POST", "/api/logout", { cookie: s.cookie, csrf: s.csrf, body: {} })).status, 200);
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: s.cookie })).status, 401);
  });

  it("writes every action to the append-only JSONL audit log", async () => {
    const s = await login(base, "root", "correct horse battery");
    const r = await http(base, "GET", "/api/audit?limit=100", { cookie: s.cookie });
    const entries = r.body["entries"] as { user: string; action: string; outcome: string; target: string; time: string }[];
    const has = (action: string, outcome: string, user?: string) => entries.some((e) => e.action === action && e.outcome === outcome && (user === undefined || e.user === user));
    assert.ok(has("setup", "ok", "root"));
    assert.ok(has("setup", "denied"));
    assert.ok(has("login", "ok", "root"));
    assert.ok(has("login", "denied"));
    assert.ok(has("csrf", "denied", "root"));
    assert.ok(has("user.set", "ok", "root"));
    assert.ok(entries.some((e) => e.action.startsWith("POST /api/processes") && e.outcome === "denied" && e.user === "vera"));
    assert.ok(has("process.stop", "error", "otto"));
    assert.ok(has("logout", "ok", "otto"));
    const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trim().split("\n");
    assert.ok(lines.length >= entries.length);
    for (const l of lines) assert.ok(typeof (JSON.parse(l) as { time: string }).time === "string");
  });

  it("believes X-Forwarded-For only from trusted proxies (trustProxy, CIDRs)", async () => {
    const auditIp = async (url: string, user: string): Promise<string | undefined> => {
      const s = await login(url, "root", "correct horse battery");
      const entries = (await http(url, "GET", "/api/audit?limit=50", { cookie: s.cookie })).body["entries"] as { user: string; ip: string }[];
      return entries.findLast((e) => e.user === user)?.ip;
    };
    const xff = { "x-forwarded-for": "198.51.100.1, 203.0.113.7" };
    await http(base, "POST", "/api/login", { body: { user: "ghost1", password: "whatever it is" }, headers: xff });
    assert.equal(await auditIp(base, "ghost1"), "127.0.0.1");
    const proxied = await createAdmin({ node, store, dataDir: dir, listen: { port: 0 }, trustProxy: ["127.0.0.0/8"] }).start();
    try {
      await http(proxied.url, "POST", "/api/login", { body: { user: "ghost2", password: "whatever it is" }, headers: xff });
      assert.equal(await auditIp(proxied.url, "ghost2"), "203.0.113.7");
    } finally {
      await proxied.close();
    }
    assert.throws(() => createAdmin({ node, store, dataDir: dir, trustProxy: "10.0.0.0/33" }), (e: GomsError) => e.reason === "GOMS_ERR_INVALID_OPTION");
  });

  it("a restart keeps users and sessions (secret persisted), and needs no setup", async () => {
    const s = await login(base, "root", "correct horse battery");
    const admin2 = await createAdmin({ node, store, dataDir: dir, listen: { port: 0 } }).start();
    try {
      assert.equal(admin2.setupToken, undefined);
      assert.equal((await http(admin2.url, "GET", "/api/nodes", { cookie: s.cookie })).status, 200);
    } finally {
      await admin2.close();
    }
  });

  it("createAdmin touches nothing until start(); start() twice is refused", async () => {
    const fresh = join(dir, "fresh");
    const a = createAdmin({ node, store, dataDir: fresh, listen: { port: 0 } });
    assert.equal(existsSync(fresh), false, "no data dir before start()");
    assert.equal(a.setupToken, undefined);
    assert.equal(await a.start(), a);
    try {
      assert.equal(existsSync(fresh), true);
      assert.ok(a.setupToken);
      await assert.rejects(a.start(), (e: GomsError) => e.reason === "GOMS_ERR_BAD_STATE");
    } finally {
      await a.close({ graceMs: 100 });
    }
  });
});
