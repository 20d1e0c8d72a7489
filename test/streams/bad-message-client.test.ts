// A server that sends a stream message the caller cannot decode: the caller's
// iterator gets the messages before it, then invalid_argument, and the stream
// is canceled on the wire (CANCEL), not left open with its window never
// granted back. Messages are decoded when the consumer takes them, so this is
// where the error surfaces.
import assert from "node:assert/strict";
import net from "node:net";
import { after, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/errors/index.js";
import { FrameType } from "../../src/internal/wire/frame.js";
import { ItemSchema, StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { eventually, frame, helloFrame, HOST, isCodeError, preface, RawPeer, startClient } from "../rpc/bad-input-kit.js";

after(() => RawPeer.destroyAll());

it("an undecodable stream message ends the caller's stream with invalid_argument and cancels it on the wire", async () => {
  const peers: RawPeer[] = [];
  const server = net.createServer((socket) => {
    const peer = RawPeer.accepted(socket);
    peers.push(peer);
    peer.onFrame = (f) => {
      if (f.type === FrameType.Hello) peer.send(Buffer.concat([preface(1, 0), helloFrame("fake", ["goms.test.v1.StreamTest"])]));
      else if (f.type === FrameType.StreamOpen) {
        const good = toBinary(ItemSchema, create(ItemSchema, { n: 7 }));
        // Field 1 as a varint that never ends: not an Item.
        const bad = Uint8Array.of(0x08, 0xff, 0xff, 0xff);
        peer.send(Buffer.concat([frame(FrameType.StreamMessage, 0, f.callId, good), frame(FrameType.StreamMessage, 0, f.callId, bad)]));
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const client = await startClient((server.address() as net.AddressInfo).port, "victim", { peers: { reconnect: { initialMs: 60_000, maxMs: 60_000 } } });
  try {
    const it = client.client(StreamTest).count({ count: 10 }, { timeoutMs: 5000 })[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    assert.equal((first.value as { n: number }).n, 7);
    await assert.rejects(it.next(), isCodeError(Code.InvalidArgument, /undecodable stream message/));
    const peer = peers[0]!;
    const open = peer.frames.find((f) => f.type === FrameType.StreamOpen)!;
    await eventually(() => peer.frames.some((f) => f.type === FrameType.Cancel && f.callId === open.callId), 2000, "a CANCEL for the stream");
    assert.equal(client.stats().outgoingCalls, 0, "nothing left in flight");
  } finally {
    await client.close({ graceMs: 0 });
    for (const p of peers) p.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
