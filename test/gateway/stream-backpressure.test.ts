// Back-pressure end to end (issue 11): an HTTP client that stops reading a
// server stream stops the producer, two processes away, through the stream's
// credit window; the gateway's memory stays flat meanwhile. The producer
// (a StreamTest node) and the gateway run as child processes; the client is
// a raw TCP socket here that reads a little, then pauses.
//
// Measured: ~4 000 messages made and ~1 MiB of gateway growth. Unbounded, the
// producer would make all 2 000 000 messages (~2.8 GB of JSON)
// and the gateway would hold what the client does not read.
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, it } from "node:test";
import { Procs } from "../procs.js";
import { closeAgent, post } from "./helpers.js";
import { assertFlatThenReleased, counters as probe, rss, settled, startStreamProcs } from "./fixtures/stream-probe.js";

const COUNT = 2_000_000;
const procs = new Procs();

after(() => {
  closeAgent();
  procs.killAll();
});

/** Opens a stream over raw TCP, reads `atLeast` bytes of it, then stops reading (the socket stays open). */
function stalledClient(port: number, accept: string, atLeast: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ count: COUNT, size: 1024 });
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(`POST /api/StreamTest/Count HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\naccept: ${accept}\r\nx-goms-timeout-ms: 600000\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    let got = 0;
    const onData = (c: Buffer): void => {
      got += c.length;
      if (got >= atLeast) {
        s.off("data", onData);
        s.pause();
        resolve(s);
      }
    };
    s.on("data", onData);
    s.on("error", reject);
  });
}

describe("gateway streams: a client that stops reading", () => {
  for (const accept of ["text/event-stream", "application/x-ndjson"]) {
    it(`${accept}: suspends the producer, keeps gateway RSS flat, and a hang-up cancels upstream`, async () => {
      const { gw, port } = await startStreamProcs(procs);

      // Warm both paths (routing, transcoding, one whole stream) before the baseline.
      assert.equal((await probe(port)).produced, 0);
      const warm = await post(port, "/api/StreamTest/Count", '{"count":2000,"size":1024}', { accept });
      assert.equal(warm.status, 200);
      assert.equal((await probe(port)).produced, 2000);
      const baseline = rss(gw);

      const client = await stalledClient(port, accept, 256 * 1024);
      const produced = (await settled(port)) - 2000;
      // What is in flight is bounded by windows and socket buffers: the stream
      // window (256 KiB) on the gateway's connection, node:http's buffer, and
      // the kernel's loopback buffers (a few MiB) on both sides.
      assert.ok(produced < 20_000, `the producer was suspended: ${produced} of ${COUNT} made`);
      await assertFlatThenReleased(gw, port, baseline, () => client.destroy());
      procs.killAll();
    });
  }
});
