// A peer that breaks the stream rules (docs/protocol.md §15) gets a protocol
// error, or a STREAM_END for stream-scoped refusals; a good client keeps working.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/errors/index.js";
import { CountRequestSchema, StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { FLAG_MORE, FrameType } from "../../src/internal/wire/frame.js";
import { frame, preface, RawPeer, requestBody, requestFrame } from "../rpc/raw-peer.js";
import { HelloSchema, NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { NodeSet } from "../helpers.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { newProbe, streamImpl } from "./fixture.js";

const COUNT = "goms.test.v1.StreamTest/Count";
const SUM = "goms.test.v1.StreamTest/Sum";
const nodes = new NodeSet();
let server: GomsNode;
let good: GomsNode;

before(async () => {
  server = await nodes.start({ identity: { name: "target" }, listen: { port: 0 }, limits: { connection: { maxConcurrentStreams: 2 } } }, (n) =>
    n.service(StreamTest, streamImpl(newProbe())),
  );
  good = await nodes.start({ identity: { name: "good" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
});
after(() => nodes.closeAll());
afterEach(() => RawPeer.destroyAll());

function open(id: number, method: string): Buffer {
  return frame(FrameType.StreamOpen, 0, id, requestBody(method, new Uint8Array(0)));
}
function message(id: number, body: Uint8Array, more = false): Buffer {
  return frame(FrameType.StreamMessage, more ? FLAG_MORE : 0, id, body);
}
function windowUpdate(id: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return frame(FrameType.WindowUpdate, 0, id, b);
}
/** A CountRequest padded with an unknown 60,000-byte field: a valid message that weighs on the window. */
function bigCountRequest(): Uint8Array {
  const head = toBinary(CountRequestSchema, create(CountRequestSchema, { count: 1_000_000, size: 1 }));
  return Buffer.concat([head, Buffer.from([0xa2, 0x06, 0xe0, 0xd4, 0x03]), Buffer.alloc(60_000)]);
}

/**
 * A raw client that announces a 16-byte stream window: the streams it opens
 * can send it next to nothing, so what it reads stays small.
 */
async function handshake(): Promise<RawPeer> {
  const p = await RawPeer.connect(server.port);
  const hello = create(HelloSchema, { node: create(NodeIdentitySchema, { name: "attacker" }), streamWindow: 16 });
  p.send(Buffer.concat([preface(), frame(FrameType.Hello, 0, 0, toBinary(HelloSchema, hello))]));
  await p.waitFrame((f) => f.type === FrameType.Hello, 2000);
  return p;
}

async function expectProtocolError(bytes: Buffer, match: RegExp): Promise<void> {
  const p = await handshake();
  p.send(bytes);
  const g = await p.waitGoAway();
  assert.equal(g.code, Code.InvalidArgument);
  assert.match(g.message, /^protocol error: /);
  assert.match(g.message, match);
  await p.waitClosed();
  let n = 0;
  for await (const _m of good.client(StreamTest).count({ count: 3 })) n++;
  assert.equal(n, 3, "a good client still streams");
}

describe("stream frames that break the protocol", () => {
  it("a STREAM_MESSAGE for a stream never opened", () => expectProtocolError(message(5, new Uint8Array(3)), /stream 5 that was never opened/));

  it("sending past the window", () =>
    // Count reads its first message only: the rest stays unconsumed and fills the 256 KiB window.
    expectProtocolError(Buffer.concat([open(1, COUNT), ...Array.from({ length: 6 }, () => message(1, bigCountRequest()))]), /past the window/));

  it("a WINDOW_UPDATE that overflows the window", () =>
    expectProtocolError(Buffer.concat([open(1, COUNT), message(1, bigCountRequest()), windowUpdate(1, 0x7fffffff)]), /overflows the window/));

  it("a WINDOW_UPDATE of 0", () => expectProtocolError(Buffer.concat([open(1, SUM), windowUpdate(1, 0)]), /WINDOW_UPDATE of 0/));

  it("data after HALF_CLOSE", () =>
    expectProtocolError(Buffer.concat([open(1, SUM), message(1, new Uint8Array([8, 1])), frame(FrameType.HalfClose, 0, 1), message(1, new Uint8Array([8, 1]))]), /after HALF_CLOSE/));

  it("an empty chunk with MORE", () => expectProtocolError(Buffer.concat([open(1, SUM), message(1, new Uint8Array(0), true)]), /empty STREAM_MESSAGE with MORE/));

  it("a STREAM_OPEN carrying a payload", () => expectProtocolError(frame(FrameType.StreamOpen, 0, 1, requestBody(SUM, new Uint8Array([8, 1]))), /STREAM_OPEN with 2 payload bytes/));

  it("stream ids share the call-id rules: a STREAM_OPEN that does not increase", () =>
    expectProtocolError(Buffer.concat([open(3, SUM), open(2, SUM)]), /call id 2 does not increase/));
});

describe("stream-scoped refusals", () => {
  it("more streams than announced: STREAM_END status 8, the connection stays", async () => {
    const p = await handshake();
    const req = toBinary(CountRequestSchema, create(CountRequestSchema, { count: 1_000_000, size: 1 }));
    p.send(Buffer.concat([open(1, COUNT), message(1, req), open(2, COUNT), message(2, req), open(3, COUNT)]));
    const end = await p.waitFrame((f) => f.type === FrameType.StreamEnd && f.callId === 3);
    assert.equal(end.body[0], Code.ResourceExhausted);
    assert.equal(p.closed, false);
  });

  it("a REQUEST to a streaming method, and a STREAM_OPEN to a unary one, are unimplemented", async () => {
    const p = await handshake();
    p.send(requestFrame(1, COUNT, new Uint8Array(0)));
    const r = await p.waitResponse(1);
    assert.equal(r.status, Code.Unimplemented);
    p.send(open(2, "goms.v1.NodeService/Ping"));
    const end = await p.waitFrame((f) => f.type === FrameType.StreamEnd && f.callId === 2);
    assert.equal(end.body[0], Code.Unimplemented);
  });
});
