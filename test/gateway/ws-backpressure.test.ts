// Back-pressure through a WebSocket stream (issue 11, "a consumer that never
// reads"): a bidi client that keeps sending but stops reading stops the
// producer (the Echo handler, two processes away) and, in turn, the gateway
// stops reading its requests; the gateway's memory stays flat meanwhile. The
// backend and the gateway are child processes (fixtures/stream-proc.ts); the
// client is `ws` here, paused after the open.
//
// Measured: ~10 000 requests sent, ~3 300 echoes made, ~1.6 MiB of gateway
// growth. With the gateway's read pause removed, the client sent 140 000
// requests in the 60 s and the gateway grew 180 MiB.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { Procs } from "../procs.js";
import { sleep } from "../helpers.js";
import { closeAgent } from "./helpers.js";
import { assertFlatThenReleased, counters, rss, settled, startStreamProcs } from "./fixtures/stream-probe.js";

const MiB = 1024 * 1024;
const COUNT = 200_000;
/** One Item with 1 KiB of payload, as proto3 JSON (~1.4 KB). */
const REQUEST = JSON.stringify({ n: 1, payload: Buffer.alloc(1024, 7).toString("base64") });
/** The client stops sending once this much waits in its own socket: the gateway has stopped reading. */
const CLIENT_BACKLOG = 8 * MiB;
const procs = new Procs();

after(() => {
  closeAgent();
  procs.killAll();
});

function connect(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/StreamTest/Echo`, { headers: { "x-goms-timeout-ms": "600000" } });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** A whole exchange of `n` requests, every echo read: warms the paths. */
async function exchange(port: number, n: number): Promise<number> {
  const ws = await connect(port);
  let got = 0;
  const closed = new Promise<void>((r) => ws.once("close", () => r()));
  ws.on("message", () => got++);
  for (let i = 0; i < n; i++) ws.send(REQUEST);
  ws.send("");
  await closed;
  return got;
}

/**
 * Sends requests without ever reading, until its socket holds CLIENT_BACKLOG
 * and none of it drains for a second (the gateway stopped reading), or COUNT
 * went out, for at most 60 s.
 * Returns how many were sent.
 */
async function stalledSender(ws: WebSocket): Promise<number> {
  ws.pause();
  const deadline = Date.now() + 60_000;
  let sent = 0;
  while (sent < COUNT && Date.now() < deadline) {
    if (ws.bufferedAmount >= CLIENT_BACKLOG) {
      // A gateway still reading (however slowly) drains some of the backlog within a second; one that stopped drains none.
      const before = ws.bufferedAmount;
      await sleep(1000);
      if (ws.bufferedAmount >= before) break;
      continue;
    }
    for (let i = 0; i < 100 && sent < COUNT; i++, sent++) ws.send(REQUEST);
    await sleep(1);
  }
  return sent;
}

describe("gateway WebSocket streams: a client that stops reading", () => {
  it("suspends the producer, stops reading the client, keeps gateway RSS flat; a hang-up cancels upstream", async () => {
    const { gw, port } = await startStreamProcs(procs);

    assert.equal(await exchange(port, 2000), 2000);
    assert.equal((await counters(port)).produced, 2000);
    const baseline = rss(gw);

    const ws = await connect(port);
    const sent = await stalledSender(ws);
    const produced = (await settled(port)) - 2000;
    // In flight: two stream windows (256 KiB each way) at the gateway's
    // connection, the gateway's read-ahead of 8 requests, ws's buffers and the
    // kernel's loopback buffers (a few MiB) on each socket.
    assert.ok(sent < COUNT, `the gateway stopped reading: the client could send only ${sent} of ${COUNT}`);
    assert.ok(produced < 20_000, `the producer was suspended: ${produced} echoes made of ${sent} requests sent`);
    await assertFlatThenReleased(gw, port, baseline, () => ws.terminate());
    procs.killAll();
  });
});
