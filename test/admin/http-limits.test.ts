// The admin's HTTP edge, against admin processes (issue 10, defects 12, 13, 14):
// malformed percent-encoding is a 400 with a JSON error, slow-header clients
// are cut near the header timeout, and the Secure cookie and the trusted
// proxies are set with CLI flags.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, Procs } from "../procs.js";
import { http, login, rawGet, startAdminProc, within, type AdminProc } from "./client.js";

const PASSWORD = "correct horse battery";

/** `goms admin` from the CLI with `flags`; resolves with its URL. */
async function cliAdmin(procs: Procs, dataDir: string, flags: string[]): Promise<string> {
  const nodePort = await freePort();
  const { out } = await procs.start(["src/cli/main.ts", "admin", "--port", "0", "--node-port", String(nodePort), "--data-dir", dataDir, "--admin-user", "root", ...flags], /goms admin on http:\/\/\S+/, { GOMS_ADMIN_PASSWORD: PASSWORD });
  return /goms admin on (http:\/\/\S+)/.exec(out())![1]!;
}

describe("admin HTTP edge (admin in its own process)", { concurrency: true }, () => {
  const procs = new Procs();
  let dir: string;
  let admin: AdminProc;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "goms-admin-edge-"));
    admin = await startAdminProc(procs, join(dir, "fixture"));
  });
  after(async () => {
    procs.killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers malformed percent-encoding with 400 GOMS_ERR_BAD_URL, never 500 or exception text", async () => {
    const s = await login(admin.url, "root", PASSWORD);
    const paths = ["/%", "/%E0%A4%A", "/assets/%zz.js", "/api/nodes/%/series", "/api/nodes/%E0%A4%A/series", "/api/processes/%ff/x/log", "/api/registry?prefix=%E0%A4%A", "/api/audit?limit=%", "/api/audit?%=1", "//%"];
    for (const p of paths) {
      for (const cookie of [s.cookie, undefined]) {
        const r = await rawGet(admin.url, p, cookie);
        assert.equal(r.status, 400, `${p}: ${r.text}`);
        assert.equal(r.type, "application/json", p);
        const body = JSON.parse(r.text) as Record<string, unknown>;
        assert.equal(body["reason"], "GOMS_ERR_BAD_URL", p);
        assert.doesNotMatch(r.text, /URI|malformed URI|Error:|at /, p);
      }
    }
    // Well-formed escapes still work.
    assert.equal((await rawGet(admin.url, "/api/audit?limit=%31", s.cookie)).status, 200);
    assert.equal((await rawGet(admin.url, "/api/nodes/caf%C3%A9/series", s.cookie)).status, 404);
  });

  it("closes a connection that trickles its headers within 20 s (header timeout 10 s)", async () => {
    const u = new URL(admin.url);
    const socket = connect(Number(u.port), u.hostname);
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("error", () => undefined);
    socket.write("GET /api/setup HTTP/1.1\r\nhost: x\r\n");
    // One more header line every second: never a complete head.
    let n = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(`x-slow-${n++}: y\r\n`);
    }, 1000);
    try {
      assert.ok(await within(closed, 20_000), "the slow-header connection was closed");
      assert.match(answer, /^(HTTP\/1\.1 408|$)/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it("--trust-proxy: X-Forwarded-Proto https (from the proxy) makes the cookie Secure, X-Forwarded-For names the client", async () => {
    const url = await cliAdmin(procs, join(dir, "proxied"), ["--trust-proxy", "127.0.0.1,10.0.0.0/8"]);
    const viaTls = await http(url, "POST", "/api/login", { body: { user: "root", password: PASSWORD }, headers: { "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7" } });
    assert.equal(viaTls.status, 200);
    assert.match(viaTls.setCookie ?? "", /; Secure/);
    const plain = await http(url, "POST", "/api/login", { body: { user: "root", password: PASSWORD } });
    assert.doesNotMatch(plain.setCookie ?? "", /Secure/);
    const audit = (await readFile(join(dir, "proxied", "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { action: string; ip: string });
    assert.ok(audit.some((e) => e.action === "login" && e.ip === "198.51.100.7"), "the forwarded client IP is audited");
  });

  it("without --trust-proxy the forwarded headers are ignored; --secure-cookies always sets Secure", async () => {
    const [open, secure] = await Promise.all([cliAdmin(procs, join(dir, "direct"), []), cliAdmin(procs, join(dir, "secure"), ["--secure-cookies"])]);
    const spoofed = await http(open, "POST", "/api/login", { body: { user: "root", password: PASSWORD }, headers: { "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.8" } });
    assert.equal(spoofed.status, 200);
    assert.doesNotMatch(spoofed.setCookie ?? "", /Secure/);
    const audit = await readFile(join(dir, "direct", "audit.jsonl"), "utf8");
    assert.ok(!audit.includes("198.51.100.8"), "an untrusted X-Forwarded-For is not believed");
    const always = await http(secure, "POST", "/api/login", { body: { user: "root", password: PASSWORD } });
    assert.match(always.setCookie ?? "", /; Secure/);
  });
});
