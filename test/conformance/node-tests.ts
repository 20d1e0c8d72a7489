import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Procs, freePort } from "../procs.js";
import { title } from "./case.js";
import { T, parseGoAway, request, PING } from "./frames.js";
import { handshake } from "./raw-conn.js";
import { CASE_TIMEOUT_MS, allCases, applicable, runOne } from "./suite.js";
import type { Target } from "./raw-conn.js";

/**
 * Declares the conformance suite as node:test tests, one per case, against a
 * node started as a child process on a free port: `args` are passed to
 * `node --import tsx` with the port appended, `ready` matches its stdout once
 * it listens. Slow cases start first; at most 12 cases run at once (well
 * below the node's 64 pending handshakes, §4.13); exclusive cases run last.
 * `hostsStreams`: the node hosts public stream methods, so no stream case may
 * skip; otherwise they are reported skipped with their reason.
 */
export function conformanceTests(name: string, args: (port: number) => string[], ready: RegExp, o: { token?: string; hostsStreams: boolean }): void {
  const token = o.token;
  const procs = new Procs();
  const target: Target = { host: "127.0.0.1", port: 0, ...(token === undefined ? {} : { token }) };
  let child: ChildProcess | undefined;
  before(async () => {
    target.port = await freePort();
    child = (await procs.start(args(target.port), ready)).p;
  });
  after(() => procs.killAll());

  const { run } = applicable(allCases, target);
  const ordered = [...run.filter((c) => c.kind === "slow"), ...run.filter((c) => c.kind === undefined)];
  const test = (c: (typeof run)[number]): void => {
    it(title(c), { timeout: CASE_TIMEOUT_MS + 5000 }, async (t) => {
      const r = await runOne(c, { target });
      if (r.error) throw r.error;
      if (r.skipped) {
        // A node that hosts stream methods must run every stream case: a skip there is a failure of discovery.
        if (o.hostsStreams) throw new Error(`skipped, but ${name} hosts stream methods: ${r.skipReason ?? ""}`);
        t.skip(r.skipReason);
      }
    });
  };
  describe(`${name}: conformance`, { concurrency: 12 }, () => ordered.forEach(test));
  describe(`${name}: conformance, cases that need the node to themselves`, () => run.filter((c) => c.kind === "exclusive").forEach(test));
  // Needs the node to shut down, so it is not in the suite run against an address.
  it("§9.10 on shutdown the node sends GOAWAY 0 with the last call id it read, then closes", async () => {
    const { conn } = await handshake(target);
    const ping = { method: PING, payload: Buffer.alloc(0) };
    assert.equal((await conn.call(1, ping)).status, 0);
    assert.equal((await conn.call(7, ping)).status, 0);
    child?.kill("SIGTERM");
    const f = await conn.frame();
    assert.equal(f.type, T.GoAway);
    const g = parseGoAway(f);
    assert.deepEqual([g.code, g.lastCallId], [0, 7]);
    conn.write(request(8, ping));
    // Call 8 came after the GOAWAY: answered with 14 if the node reads it before closing (§9.10), never served.
    for (const seen of await conn.closedWithin()) {
      if (seen.type === T.Response) assert.equal(seen.body[0], 14, "a REQUEST after GOAWAY is answered with 14");
    }
  });
}
