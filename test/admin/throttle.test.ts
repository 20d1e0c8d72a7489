// Login throttling against an admin console in its own process (issue 10,
// defect 3): concurrent guesses are counted before the slow hash, an IP is
// throttled across user names, user names in the audit log are short, and a
// full throttle table refuses logins (429) instead of letting them through.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Procs } from "../procs.js";
import { failure, http, startAdminProc, type AdminProc, type Res } from "./client.js";

const RIGHT = "correct horse battery";

/** A login "from" `ip`: the admin trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the client. */
function attempt(a: AdminProc, user: string, password: string, ip: string): Promise<Res> {
  return http(a.url, "POST", "/api/login", { body: { user, password }, headers: { "x-forwarded-for": ip } });
}

function tally(rs: Res[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[String(r.status)] = (out[String(r.status)] ?? 0) + 1;
  return out;
}

describe("admin login throttle (admin in its own process)", { concurrency: true }, () => {
  const procs = new Procs();
  let dir: string;
  let admin: AdminProc;
  let small: AdminProc;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "goms-admin-throttle-"));
    [admin, small] = await Promise.all([
      // First lock 10 s: long enough to outlast a batch of concurrent hashes on a busy machine.
      startAdminProc(procs, join(dir, "a"), { trustProxy: ["127.0.0.1"], loginThrottle: { baseMs: 10_000 } }),
      startAdminProc(procs, join(dir, "b"), { trustProxy: ["127.0.0.1"], loginThrottle: { maxEntries: 4 } }),
    ]);
  });
  after(async () => {
    procs.killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("60 concurrent guesses for one user and IP: at most 3 are checked, the rest get 429; the right password waits for the lock", async () => {
    const ip = "198.51.100.1";
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(admin, "root", `wrong guess ${i}`, ip)));
    const t = tally(rs);
    assert.ok((t["401"] ?? 0) <= 3, `checked: ${JSON.stringify(t)}`);
    assert.ok((t["429"] ?? 0) >= 57, `throttled: ${JSON.stringify(t)}`);
    assert.ok(rs.filter((r) => r.status === 429).every((r) => r.body["reason"] === "GOMS_ERR_TOO_MANY_ATTEMPTS"));
    // Locked: even the right password is refused until the lock ends.
    const locked = await attempt(admin, "root", RIGHT, ip);
    assert.deepEqual(failure(locked), [429, "GOMS_ERR_TOO_MANY_ATTEMPTS"]);
    const retryAfter = Number(locked.headers.get("retry-after"));
    assert.ok(retryAfter >= 1);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
    assert.equal((await attempt(admin, "root", RIGHT, ip)).status, 200);
  });

  it("throttles one IP across user names (30 new names at once: at most 10 checked)", async () => {
    const ip = "198.51.100.2";
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(admin, `guess${i}`, "wrong password", ip)));
    const t = tally(rs);
    assert.ok((t["401"] ?? 0) <= 10, JSON.stringify(t));
    assert.ok((t["429"] ?? 0) >= 20, JSON.stringify(t));
    // The IP is locked for every name, the real one too; another IP is not.
    assert.equal((await attempt(admin, "root", RIGHT, ip)).status, 429);
    assert.equal((await attempt(admin, "root", RIGHT, "198.51.100.3")).status, 200);
  });

  it("keeps user names short in the audit log (no 12 KiB names)", async () => {
    const huge = await attempt(admin, "x".repeat(12_000), "wrong password", "198.51.100.4");
    assert.deepEqual(failure(huge), [413, "GOMS_ERR_BODY_TOO_LARGE"]);
    const long = await attempt(admin, "y".repeat(3000), "wrong password", "198.51.100.5");
    assert.deepEqual(failure(long), [401, "GOMS_ERR_BAD_CREDENTIALS"]);
    const lines = (await readFile(join(admin.dataDir, "audit.jsonl"), "utf8")).trim().split("\n");
    const longest = Math.max(...lines.map((l) => l.length));
    assert.ok(longest < 1024, `longest audit line: ${longest} bytes`);
    assert.ok(lines.some((l) => l.includes(`"${"y".repeat(64)}…"`)), "the name is kept, cut to 64 characters");
  });

  it("a full throttle table refuses new logins with 429 (fails closed), even the right password", async () => {
    // maxEntries 4: four IPs with a failure each fill the IP table.
    for (let i = 0; i < 4; i++) assert.equal((await attempt(small, "root", "wrong password", `203.0.113.${i}`)).status, 401);
    const refused = await attempt(small, "root", RIGHT, "203.0.113.99");
    assert.deepEqual(failure(refused), [429, "GOMS_ERR_TOO_MANY_ATTEMPTS"]);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    // An IP already in the table still logs in.
    assert.equal((await attempt(small, "root", RIGHT, "203.0.113.0")).status, 200);
  });
});
