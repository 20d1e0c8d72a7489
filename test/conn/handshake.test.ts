// The handshake rules of docs/protocol.md §2 and §4, over real TCP with a
// hand-written peer: nothing but HELLO before HELLO, a small frame limit until
// the HELLO is accepted, required HELLO fields, pipelined calls, and the bound
// on connections still in their handshake.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/errors/index.js";
import { HelloSchema, NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { FrameType } from "../../src/internal/wire/frame.js";
import { ADD, addRequestBytes, fastConn, frame, helloFrame, preface, RawPeer, requestFrame, startTarget, type Target } from "../rpc/bad-input-kit.js";

let t: Target;

before(async () => {
  t = await startTarget({ limits: { connection: fastConn } });
});

after(async () => {
  RawPeer.destroyAll();
  await t.close();
});

function hello(fields: { name?: string; maxFrameSize?: number }): Buffer {
  const h = create(HelloSchema, {
    node: create(NodeIdentitySchema, { name: fields.name ?? "peer" }),
    maxFrameSize: fields.maxFrameSize ?? 0,
  });
  return frame(FrameType.Hello, 0, 0, toBinary(HelloSchema, h));
}

/** Sends preface + `bytes` on a fresh connection and expects GOAWAY 3 with `message`, then close. */
async function refusedBeforeHello(bytes: Buffer, message: RegExp): Promise<void> {
  const p = await RawPeer.connect(t.port);
  p.send(Buffer.concat([preface(), bytes]));
  const g = await p.waitGoAway();
  assert.equal(g.code, Code.InvalidArgument, g.message);
  assert.equal(g.lastCallId, 0, "a protocol-error GOAWAY carries last_call_id 0");
  assert.match(g.message, message);
  await p.waitClosed();
  assert.ok(!p.frames.some((f) => f.type === FrameType.Hello), "no HELLO for a refused peer");
}

describe("§4 frames before HELLO", () => {
  it("a PING before HELLO is a protocol error (not answered with a PING ACK)", async () => {
    await refusedBeforeHello(frame(FrameType.Ping, 0, 0, Buffer.alloc(8)), /expected HELLO, got frame type 5/);
  });

  it("a HELLO announcing more than 16 KiB is refused from its length prefix", async () => {
    // Only the 10-byte header is sent: the server must not wait for the body.
    const header = Buffer.alloc(10);
    header.writeUInt32BE(16 * 1024 * 1024, 0);
    header[4] = FrameType.Hello;
    await refusedBeforeHello(header, /frame length 16777216 exceeds the limit of 16384 bytes/);
  });

  it("a HELLO of just under 16 KiB is accepted (the limit is exactly 16 KiB)", async () => {
    const p = await RawPeer.connect(t.port);
    const big = create(HelloSchema, { node: create(NodeIdentitySchema, { name: "big", services: Array.from({ length: 500 }, (_, i) => `pkg.S${i}xxxxxxxxxxxxxxx`) }) });
    const body = toBinary(HelloSchema, big);
    assert.ok(body.length > 12_000 && body.length + 6 <= 16 * 1024, `HELLO body is ${body.length} bytes`);
    p.send(Buffer.concat([preface(), frame(FrameType.Hello, 0, 0, body)]));
    await p.waitFrame((f) => f.type === FrameType.Hello);
  });
});

describe("§4 HELLO fields", () => {
  it("a HELLO without node.name is a protocol error", () => refusedBeforeHello(hello({ name: "" }), /node\.name/));

  it("a node.name longer than 255 bytes is a protocol error", () => refusedBeforeHello(hello({ name: "é".repeat(128) }), /longer than 255 bytes/));

  it("max_frame_size below 64 KiB is a protocol error", () => refusedBeforeHello(hello({ maxFrameSize: 65535 }), /max_frame_size 65535 is below the minimum of 65536/));

  it("max_frame_size 0 (the default) and exactly 64 KiB are accepted", async () => {
    for (const maxFrameSize of [0, 65536]) {
      const p = await RawPeer.connect(t.port);
      p.send(Buffer.concat([preface(), hello({ maxFrameSize })]));
      await p.waitFrame((f) => f.type === FrameType.Hello);
      p.destroy();
    }
  });

  it("a second HELLO is a protocol error", async () => {
    const p = await RawPeer.handshake(t.port);
    p.send(helloFrame("again"));
    const g = await p.waitGoAway();
    assert.equal(g.code, Code.InvalidArgument);
    assert.match(g.message, /duplicate HELLO/);
    await p.waitClosed();
  });
});

describe("§4 handshake completion", () => {
  it("REQUESTs pipelined right after an accepted HELLO are served, in order", async () => {
    const p = await RawPeer.connect(t.port);
    p.send(Buffer.concat([preface(), helloFrame(), requestFrame(1, ADD, addRequestBytes(1, 2)), requestFrame(2, ADD, addRequestBytes(3, 4))]));
    assert.deepEqual([...(await p.waitResponse(1)).payload], [0x08, 3]);
    assert.deepEqual([...(await p.waitResponse(2)).payload], [0x08, 7]);
    const order = p.frames.map((f) => f.type);
    assert.equal(order[0], FrameType.Hello, "the server HELLO comes first");
  });

  it("REQUESTs pipelined after a refused HELLO are discarded: GOAWAY 16 and no RESPONSE", async () => {
    const locked = await startTarget({ auth: { token: "s3cret" }, limits: { connection: fastConn } });
    try {
      const p = await RawPeer.connect(locked.port);
      p.send(Buffer.concat([preface(), helloFrame(), requestFrame(1, ADD, addRequestBytes(1, 2))]));
      const g = await p.waitGoAway();
      assert.equal(g.code, Code.Unauthenticated);
      assert.equal(g.lastCallId, 0);
      await p.waitClosed();
      assert.ok(!p.frames.some((f) => f.type === FrameType.Response), "the pipelined call must not be served");
      assert.equal(locked.queries, 0);
    } finally {
      await locked.close();
    }
  });
});

describe("§4 pending handshakes are bounded (limits.maxPendingHandshakes)", () => {
  it("past the bound the oldest pending connection is closed and the new one served; a completed handshake frees its slot", async () => {
    const small = await startTarget({ limits: { connection: { ...fastConn, handshakeTimeoutMs: 60_000 }, maxPendingHandshakes: 4 } });
    try {
      // Four peers send their preface and stop: they hold every pending slot.
      const held: RawPeer[] = [];
      for (let i = 0; i < 4; i++) {
        const p = await RawPeer.connect(small.port);
        p.send(preface());
        await p.waitFrame(() => false, 300).catch(() => undefined);
        held.push(p);
      }
      assert.ok(held.every((p) => p.prefaceReply !== undefined && !p.closed), "the first four are served");
      // A fifth arrives: the oldest parked one is closed (the handshake timeout is a minute,
      // so only the bound can close it), and the newcomer completes its handshake.
      const next = await RawPeer.connect(small.port);
      next.send(Buffer.concat([preface(), helloFrame("next")]));
      await next.waitFrame((f) => f.type === FrameType.Hello);
      await held[0]!.waitClosed(5000);
      assert.ok(held.slice(1).every((p) => !p.closed), "only the oldest was closed");
      // A completed handshake leaves the pending set: the next newcomer takes the free slot
      // and closes nobody; the one after it closes only held[1], now the oldest.
      const another = await RawPeer.connect(small.port);
      another.send(preface());
      await another.waitFrame(() => false, 300).catch(() => undefined);
      assert.ok(another.prefaceReply !== undefined && held.slice(1).every((p) => !p.closed), "a free slot: nobody closed");
      const third = await RawPeer.connect(small.port);
      third.send(Buffer.concat([preface(), helloFrame("third")]));
      await third.waitFrame((f) => f.type === FrameType.Hello);
      await held[1]!.waitClosed(5000);
      assert.ok(!next.closed && !another.closed && !held[2]!.closed && !held[3]!.closed);
    } finally {
      RawPeer.destroyAll();
      await small.close();
    }
  });
});
