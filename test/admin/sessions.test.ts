// Revoking a session ends its open event streams at once, and sessions issued
// before a password or role change are void (issue 10, defects 9 and 11).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAdmin, type Admin } from "../../src/admin/index.js";
import { createNode, type GomsNode } from "../../src/rpc/index.js";
import { http, login, openStream, within, type EventStream } from "./client.js";
import { FakeStore } from "./store-double.js";

/** How long a revoked stream may take to end: generous, it is a bound, not a speed check. */
const END_BOUND_MS = 5000;

function endedWithSessionError(s: EventStream): void {
  const last = s.events[s.events.length - 1];
  assert.equal(last?.event, "error");
  assert.equal((JSON.parse(last.data) as { reason: string }).reason, "GOMS_ERR_SESSION_ENDED");
}

describe("admin sessions end their streams (real HTTP)", () => {
  let dir: string;
  let node: GomsNode;
  let admin: Admin;
  let base: string;
  let root: { cookie: string; csrf: string };
  const store = new FakeStore();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "goms-admin-sess-"));
    node = await createNode({ identity: { name: "admin-sess" }, listen: { port: 0 } }).start();
    admin = await createAdmin({ node, store, dataDir: dir, listen: { port: 0 }, bootstrapUser: { name: "root", password: "correct horse battery" } }).start();
    base = admin.url;
    root = await login(base, "root", "correct horse battery");
    for (const [user, role] of [["vera", "viewer"], ["otto", "operator"]]) {
      const r = await http(base, "POST", "/api/users", { cookie: root.cookie, csrf: root.csrf, body: { user, role, password: `${user} password 1` } });
      assert.equal(r.status, 200);
    }
  });
  after(async () => {
    await admin.close({ graceMs: 100 });
    await node.close({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });

  it("logout ends the session's /api/events stream, not other sessions' streams", async () => {
    const a = await login(base, "vera", "vera password 1");
    const b = await login(base, "vera", "vera password 1");
    const sa = await openStream(base, "/api/events", a.cookie);
    const sb = await openStream(base, "/api/events", b.cookie);
    assert.equal(sa.status, 200);
    assert.equal((await http(base, "POST", "/api/logout", { cookie: a.cookie, csrf: a.csrf, body: {} })).status, 200);
    assert.ok(await within(sa.ended, END_BOUND_MS), "the logged-out session's stream ended");
    endedWithSessionError(sa);
    // The audit event of a later login no longer reaches it; the other session still gets it.
    await login(base, "otto", "otto password 1");
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!sa.events.some((e) => e.event === "audit" && e.data.includes('"otto"')));
    assert.ok(sb.events.some((e) => e.event === "audit" && e.data.includes('"otto"')), "the other session still streams");
    sb.close();
  });

  it("a password reset voids sessions issued before it (200 before, 401 after) and ends their streams", async () => {
    const v = await login(base, "vera", "vera password 1");
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: v.cookie })).status, 200);
    const stream = await openStream(base, "/api/events", v.cookie);
    const reset = await http(base, "POST", "/api/users", { cookie: root.cookie, csrf: root.csrf, body: { user: "vera", role: "viewer", password: "vera password 2" } });
    assert.equal(reset.status, 200);
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: v.cookie })).status, 401);
    assert.ok(await within(stream.ended, END_BOUND_MS), "the stream ended at the reset");
    endedWithSessionError(stream);
    // The new password gives a working session.
    const again = await login(base, "vera", "vera password 2");
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: again.cookie })).status, 200);
  });

  it("a demotion voids the user's sessions and ends their streams", async () => {
    const o = await login(base, "otto", "otto password 1");
    const stream = await openStream(base, "/api/events", o.cookie);
    const demote = await http(base, "POST", "/api/users", { cookie: root.cookie, csrf: root.csrf, body: { user: "otto", role: "viewer", password: "otto password 1" } });
    assert.equal(demote.status, 200);
    assert.ok(await within(stream.ended, END_BOUND_MS), "the stream ended at the demotion");
    endedWithSessionError(stream);
    assert.equal((await http(base, "GET", "/api/nodes", { cookie: o.cookie })).status, 401);
  });

  it("a session's stream ends when the session expires (sessionTtlMs)", async () => {
    const short = await createAdmin({ node, store, dataDir: dir, listen: { port: 0 }, sessionTtlMs: 1500 }).start();
    try {
      const s = await login(short.url, "root", "correct horse battery");
      const stream = await openStream(short.url, "/api/events", s.cookie);
      assert.equal(stream.status, 200);
      assert.ok(await within(stream.ended, 1500 + END_BOUND_MS), "the stream ended at expiry");
      endedWithSessionError(stream);
      assert.equal((await http(short.url, "GET", "/api/nodes", { cookie: s.cookie })).status, 401);
    } finally {
      await short.close({ graceMs: 100 });
    }
  });

  it("refuses options that are not positive integers", () => {
    assert.throws(() => createAdmin({ node, store, dataDir: dir, sessionTtlMs: 0 }), /sessionTtlMs/);
    assert.throws(() => createAdmin({ node, store, dataDir: dir, sse: { maxQueuedBytes: -1 } }), /sse.maxQueuedBytes/);
  });
});
