// Resource abuse: a peer that never reads its responses, and connection floods.
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, it } from "node:test";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { FrameType } from "../../src/internal/wire/frame.js";
import {
  assertHealthy,
  eventually,
  fastConn,
  gc,
  HOST,
  preface,
  QUERY,
  RawPeer,
  requestFrame,
  serverStats,
  sleep,
  startClient,
  startTarget,
} from "./bad-input-kit.js";

after(() => RawPeer.destroyAll());

const MiB = 1024 * 1024;

function mem(): number {
  gc();
  const m = process.memoryUsage();
  return m.arrayBuffers;
}

describe("7. a peer that stops reading", () => {
  it("server applies back-pressure: bounded memory, other clients served, recovers when the peer goes", async () => {
    const maxBufferedBytes = 1 * MiB;
    const t = await startTarget({ limits: { connection: { maxBufferedBytes } } });
    const good = await startClient(t.port);
    try {
      const base = mem();
      const rssBase = process.memoryUsage().rss;
      const p = await RawPeer.handshake(t.port);
      p.socket.pause(); // never reads again: the kernel buffers fill, then the server's socket buffer.

      const N = 400;
      const size = 256 * 1024; // 400 x 256 KiB = 100 MiB requested
      const key = new TextEncoder().encode(String(size));
      // QueryRequest { key = 1 } as protobuf: 0x0a len bytes.
      const payload = Uint8Array.from([0x0a, key.length, ...key]);
      const reqs: Buffer[] = [];
      for (let i = 1; i <= N; i++) reqs.push(requestFrame(i, QUERY, payload));
      {
        p.send(Buffer.concat(reqs)); // pipelined in one write (~20 kB): typically one or two reads server-side
        await sleep(500);

        const grew = mem() - base;
        const rssGrew = process.memoryUsage().rss - rssBase;
        const total = N * size;
        console.log(`served ${t.queries - 1}/${N} calls, arrayBuffers +${(grew / MiB).toFixed(1)} MiB, rss +${(rssGrew / MiB).toFixed(1)} MiB of ${total / MiB} MiB requested`);
        assert.ok(t.queries < N / 2, `server kept serving a peer that does not read: ${t.queries - 1}/${N} calls`);
        assert.ok(rssGrew < 64 * MiB, `rss grew by ${(rssGrew / MiB).toFixed(1)} MiB with a non-reading peer`);
        assert.ok(grew < 24 * MiB, `arrayBuffers grew by ${(grew / MiB).toFixed(1)} MiB with a non-reading peer (limit ${maxBufferedBytes / MiB} MiB buffered)`);

        // Other clients are still served, including large responses.
        const big = await good.client(DB).query({ key: String(size) }, { timeoutMs: 3000 });
        assert.equal(big.value.length, size);
        await assertHealthy(t);

        // The stalled peer goes away: its connection and buffers are released.
        p.destroy();
        await eventually(async () => (await serverStats(t)).connections === 1, 3000, "the stalled connection to close");
        await sleep(50);
        const after = mem() - base;
        assert.ok(after < 8 * MiB, `arrayBuffers still ${(after / MiB).toFixed(1)} MiB above baseline after the peer left`);
        await assertHealthy(t);
      }
    } finally {
      await good.close({ graceMs: 0 });
      await t.close();
    }
  });

  it("a slow (but reading) peer still gets every pipelined response", async () => {
    const t = await startTarget({ limits: { connection: { maxBufferedBytes: 256 * 1024 } } });
    try {
      const p = await RawPeer.handshake(t.port);
      const N = 64;
      const key = new TextEncoder().encode(String(64 * 1024));
      const payload = Uint8Array.from([0x0a, key.length, ...key]);
      const reqs: Buffer[] = [];
      for (let i = 1; i <= N; i++) reqs.push(requestFrame(i, QUERY, payload));
      p.socket.pause();
      p.send(Buffer.concat(reqs));
      await sleep(100);
      p.socket.resume();
      await eventually(() => p.frames.filter((f) => f.type === FrameType.Response).length === N, 5000, "all responses");
      const ids = p.frames.filter((f) => f.type === FrameType.Response).map((f) => f.callId);
      assert.deepEqual(ids, Array.from({ length: N }, (_, i) => i + 1));
      p.destroy();
      await assertHealthy(t);
    } finally {
      await t.close();
    }
  });
});

describe("8. connection floods", () => {
  it("300 sockets that never finish a handshake are all closed by the handshake timeout; the server keeps serving", async () => {
    // Room for all 300 in the pending-handshake bound: this test is about the timeout.
    const t = await startTarget({ limits: { connection: fastConn, maxPendingHandshakes: 400 } });
    const good = await startClient(t.port);
    try {
      const sockets = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ host: HOST, port: t.port }, () => {
              s.resume(); // consume the (absent) input so that the server's close is seen
              // a third say nothing, a third send half a preface, a third a full preface but no HELLO
              if (i % 3 === 1) s.write(preface().subarray(0, 3));
              if (i % 3 === 2) s.write(preface());
              resolve(s);
            });
            s.on("error", reject);
          }),
        ),
      );
      const closed = sockets.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve()))));
      // While they hang there, a normal call works.
      assert.equal((await good.client(DB).query({ key: "3" })).value, "xxx");
      await eventually(async () => (await serverStats(t)).connections >= 301, 2000, "the flood to be accepted");
      const started = Date.now();
      await Promise.race([Promise.all(closed), sleep(3000).then(() => assert.fail("flood sockets still open after 3s"))]);
      assert.ok(Date.now() - started < 3000);
      assert.equal((await serverStats(t)).connections, 1, "only the good client remains");
      await assertHealthy(t);
    } finally {
      await good.close({ graceMs: 0 });
      await t.close();
    }
  });

  it("maxConnections is respected: sockets beyond it are closed at once", async () => {
    const t = await startTarget({ listen: { maxConnections: 5 }, limits: { connection: fastConn } });
    try {
      const held = await Promise.all(Array.from({ length: 5 }, () => RawPeer.handshake(t.port)));
      await eventually(async () => (await serverStats(t)).connections === 5, 2000, "5 connections");
      const extra = await Promise.all(Array.from({ length: 10 }, () => RawPeer.connect(t.port)));
      for (const p of extra) p.send(preface());
      await Promise.all(extra.map((p) => p.waitClosed(2000)));
      for (const p of extra) assert.equal(p.prefaceReply, undefined, "no goms connection beyond the limit");
      for (const p of held) assert.ok(!p.closed, "connections within the limit are kept");
      assert.equal((await serverStats(t)).connections, 5);
      for (const p of held) p.destroy();
      await eventually(async () => (await serverStats(t)).connections === 0, 2000, "held connections to close");
      await assertHealthy(t);
    } finally {
      await t.close();
    }
  });
});
