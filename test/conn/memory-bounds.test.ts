// Issue 10, defects 4 and 5: what a hostile peer can make a server hold.
// The server runs as a child process (test/conn/fixtures/bounded-server.ts);
// its RSS is read from /proc while raw TCP peers attack it.
//  - Defect 4: peers that send calls with large answers and never read. Before
//    the fix the server buffered every answer (3 x 64 x 4 MiB: ~770 MiB).
//  - Defect 5: peers that announce a 16 MiB HELLO and send 15 MiB of it. Before
//    the fix the server held them all (24 x 15 MiB: ~360 MiB); now each is refused
//    from its length prefix (16 KiB pre-handshake limit).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { Code } from "../../src/errors/index.js";
import { FrameType } from "../../src/internal/wire/frame.js";
import { Procs } from "../procs.js";
import { preface, QUERY, RawPeer, requestFrame, sleep } from "../rpc/bad-input-kit.js";

const MiB = 1024 * 1024;
const ANSWER = 4 * MiB;
const procs = new Procs();
const server = fileURLToPath(new URL("./fixtures/bounded-server.ts", import.meta.url));

after(() => {
  RawPeer.destroyAll();
  procs.killAll();
});

function rss(p: ChildProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

async function startServer(env: Record<string, string>): Promise<{ p: ChildProcess; port: number }> {
  const { p, out } = await procs.start([server], /port \d+/, { WARM: String(ANSWER), ...env });
  const port = Number(/port (\d+)/.exec(out())![1]);
  return { p, port };
}

/** Highest RSS growth over `baseline` seen while polling for `ms`. */
async function peakGrowth(p: ChildProcess, baseline: number, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    peak = Math.max(peak, rss(p) - baseline);
    await sleep(100);
  }
  return peak;
}

/** Handshaken peers that stop reading, each with 64 calls whose answers are 4 MiB. */
async function nonReaders(port: number, count: number): Promise<RawPeer[]> {
  const peers = await Promise.all(Array.from({ length: count }, (_, i) => RawPeer.handshake(port, `stalled-${i}`)));
  for (const p of peers) {
    p.socket.pause();
    p.send(Buffer.concat(Array.from({ length: 64 }, (_, i) => requestFrame(i + 1, QUERY, Uint8Array.from([0x0a, 7, ...Buffer.from(String(ANSWER))])))));
  }
  return peers;
}

describe("defect 4: a peer that never reads cannot make the server buffer without bound", () => {
  it("async handlers: 3 connections x 64 pending 4 MiB answers: growth < 80 MiB, then GOAWAY 8 \"peer not reading\"", async () => {
    const { p, port } = await startServer({ HANDLER: "async" });
    await sleep(300);
    const baseline = rss(p);
    const peers = await nonReaders(port, 3);
    const growth = await peakGrowth(p, baseline, 4000);
    assert.ok(growth < 80 * MiB, `server RSS grew by ${(growth / MiB).toFixed(0)} MiB (bound: 3 x 2 x 8 MiB + frames)`);
    // The peers read again (all at once: the server keeps a cut-off peer's bytes for stallTimeoutMs
    // only): behind what the server had buffered comes the GOAWAY.
    for (const peer of peers) peer.socket.resume();
    for (const peer of peers) {
      const g = await peer.waitGoAway(20_000);
      assert.equal(g.code, Code.ResourceExhausted);
      assert.equal(g.message, "peer not reading");
      assert.equal(g.lastCallId, 0);
      await peer.waitClosed(20_000);
      const answered = peer.frames.filter((f) => f.type === FrameType.Response).length;
      assert.ok(answered < 64, `${answered} answers were buffered for a peer that did not read`);
    }
  });

  it("sync handlers: reading stops at the soft limit, and a stall past stallTimeoutMs ends with GOAWAY 8", async () => {
    const { p, port } = await startServer({ HANDLER: "sync", STALL_MS: "1500" });
    await sleep(300);
    const baseline = rss(p);
    const peers = await nonReaders(port, 3);
    const growth = await peakGrowth(p, baseline, 2500);
    assert.ok(growth < 80 * MiB, `server RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
    for (const peer of peers) peer.socket.resume();
    for (const peer of peers) {
      const g = await peer.waitGoAway(20_000);
      assert.equal(g.code, Code.ResourceExhausted);
      assert.equal(g.message, "peer not reading");
      await peer.waitClosed(20_000);
    }
  });
});

describe("defect 5: unauthenticated peers cannot make the server hold big frames", () => {
  it("24 connections announcing a 16 MiB HELLO and sending 15 MiB of it: GOAWAY 3 at once, growth < 64 MiB", async () => {
    const { p, port } = await startServer({ HANDLER: "sync" });
    await sleep(300);
    const baseline = rss(p);
    const header = Buffer.alloc(10);
    header.writeUInt32BE(16 * MiB, 0);
    header[4] = FrameType.Hello;
    const chunk = Buffer.alloc(MiB, 0x41);
    const peers = await Promise.all(Array.from({ length: 24 }, () => RawPeer.connect(port)));
    const sending = peers.map(async (peer) => {
      peer.send(Buffer.concat([preface(), header]));
      // 15 MiB in 1 MiB writes, each waiting for the socket to drain; the server may cut us off any time.
      const end = Date.now() + 10_000;
      for (let i = 0; i < 15 && !peer.socket.destroyed && Date.now() < end; i++) {
        if (!peer.socket.write(chunk)) await Promise.race([new Promise((r) => peer.socket.once("drain", r)), peer.closedPromise, sleep(1000)]);
      }
    });
    const growth = await peakGrowth(p, baseline, 3000);
    await Promise.all(sending);
    // What remains is garbage: the server keeps reading (and dropping) the junk until it closes, so
    // that its close is not a reset; 360 MiB of reads fill the young generation (~30 MiB).
    assert.ok(growth < 64 * MiB, `server RSS grew by ${(growth / MiB).toFixed(0)} MiB before any HELLO was accepted`);
    for (const peer of peers) {
      const g = await peer.waitGoAway(5000);
      assert.equal(g.code, Code.InvalidArgument);
      assert.match(g.message, /exceeds the limit of 16384 bytes/);
    }
  });
});
