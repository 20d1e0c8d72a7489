// A server stream whose connection is backed up by a peer that stopped
// reading its socket: the producer waits at its `yield` for the connection to
// drain (Conn.whenWritable). When the stream's deadline passes there, the
// handler ends at once (its finally runs, its signal aborts), instead of
// waiting for a drain that never comes or for the connection to be closed
// 30 s later (StreamOutbox.wait). Real TCP; the peer is a hand-written client
// so that it can stop reading.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, it } from "node:test";
import { toBinary, create } from "@bufbuild/protobuf";
import { CountRequestSchema, StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";
import { handshake } from "../conformance/raw-conn.js";
import { halfClose, streamMessage, streamOpen } from "../conformance/frames.js";
import { newProbe, streamImpl } from "./fixture.js";

const nodes = new NodeSet();
after(() => nodes.closeAll());

it("a producer waiting for a connection its peer does not read ends when its stream's deadline passes", async () => {
  const probe = newProbe();
  const server = await nodes.start(
    { identity: { name: "unread-peer-server" }, listen: { port: 0 }, limits: { connection: { maxBufferedBytes: 256 * 1024 } } },
    (n) => n.service(StreamTest, streamImpl(probe)),
  );
  // A window far above what the socket holds: only the connection's output bound can stop the producer.
  const s = await handshake({ host: "127.0.0.1", port: server.port }, { streamWindow: 1 << 30 });
  try {
    const req = Buffer.from(toBinary(CountRequestSchema, create(CountRequestSchema, { count: 1_000_000, size: 60_000 })));
    s.conn.socket.pause();
    s.conn.write(streamOpen(1, { method: "goms.test.v1.StreamTest/Count", timeoutMs: 3000 }), streamMessage(1, req), halfClose(1));
    // The producer fills the socket buffers and the connection's 256 KiB, then waits: its count stops moving.
    let last = -1;
    for (let i = 0; i < 50 && (probe.produced !== last || probe.produced === 0); i++) {
      last = probe.produced;
      await sleep(200);
    }
    assert.ok(probe.produced > 4, `the producer sent only ${probe.produced} messages before it waited`);
    assert.equal(probe.finallyRan, 0, "the handler is still suspended at its yield");
    // The deadline (3 s from the open) passes while the peer still reads nothing.
    await until(() => probe.finallyRan === 1, 8000, "the handler's finally after the deadline");
    assert.equal(probe.aborted, 1);
    assert.equal(s.conn.closed, false, "the connection itself is still open: the stream ended, not the connection");
  } finally {
    s.conn.destroy();
  }
});
