// Lease caps over a real `goms watch` child process and TCP (issue 10, defect 10):
// one client connection may hold at most --max-leases-per-client live leases,
// the server at most --max-leases, both refused with ResourceExhausted and a
// message naming the limit; revoking (or expiry) makes room again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import type { WatchClient } from "../../src/watch/index.js";
import { processFixture, rssMiB, startWatchProcess } from "./helpers.js";

const { children, client } = processFixture({});

function tooMany(scope: RegExp): (e: unknown) => boolean {
  return (e: unknown) => GomsError.is(e) && e.code === Code.ResourceExhausted && scope.test(e.rawMessage);
}

async function grantAll(c: WatchClient, n: number, ttlMs = 3_600_000): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await c.grant(ttlMs));
  return out;
}

describe("lease caps", () => {
  it("caps leases per client connection and in total, and frees a slot on revoke and on expiry", async () => {
    const srv = await startWatchProcess(["--port", "0", "--max-leases", "50", "--max-leases-per-client", "20"], children);
    const [a, b, c] = [client(srv.url), client(srv.url), client(srv.url)];
    const aLeases = await grantAll(a, 20);
    await assert.rejects(a.grant(60_000), tooMany(/this client holds its limit of 20 leases \(maxLeasesPerClient\)/));
    await grantAll(b, 20);
    await grantAll(c, 9);
    const short = await c.grant(300);
    await assert.rejects(c.grant(60_000), tooMany(/the server holds its limit of 50 leases \(maxLeases\)/));
    await assert.rejects(a.grant(60_000), tooMany(/limit of (20|50) leases/));
    await a.revoke(aLeases[0]!);
    const again = await a.grant(60_000);
    await a.put("k", new Uint8Array(1), { lease: again });
    // The short lease expires: its slot is free again, for any client.
    await new Promise((r) => setTimeout(r, 600));
    await assert.rejects(c.keepAlive(short), (e: unknown) => GomsError.is(e) && e.code === Code.NotFound);
    await c.grant(60_000);
    await assert.rejects(b.grant(60_000), tooMany(/the server holds its limit of 50 leases/));
    await assert.rejects(a.grant(60_000), tooMany(/limit of (20|50) leases/));
  });

  it("a flood of grants from many connections stops at the global cap; server memory stays bounded", async (t) => {
    const srv = await startWatchProcess(["--port", "0", "--max-leases", "2000", "--max-leases-per-client", "500"], children);
    const before = rssMiB(srv.p.pid!);
    let granted = 0;
    let refused = 0;
    const deadline = Date.now() + 60_000;
    // 8 connections x 600 grants each: at most 500 each, 2000 in total.
    for (let i = 0; i < 8 && Date.now() < deadline; i++) {
      const c = client(srv.url);
      const results = await Promise.allSettled(Array.from({ length: 600 }, () => c.grant(3_600_000)));
      for (const r of results) {
        if (r.status === "fulfilled") granted++;
        else {
          assert.ok(tooMany(/limit of (500|2000) leases/)(r.reason), String(r.reason));
          refused++;
        }
      }
    }
    const grown = rssMiB(srv.p.pid!) - before;
    t.diagnostic(`granted ${String(granted)}, refused ${String(refused)}, server RSS growth ${grown.toFixed(1)} MiB`);
    assert.equal(granted, 2000);
    assert.equal(refused, 8 * 600 - 2000);
    assert.ok(grown < 100, `server grew ${grown.toFixed(0)} MiB`);
  });
});
