// Frame-level rules of docs/protocol.md §5-§9 that the server enforces, over
// real TCP with a hand-written peer: increasing call ids, GOAWAY bodies and
// watermarks, client GOAWAY, CANCEL, PING bodies, metadata, and Descriptors.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createNode, NodeService, type GomsNode } from "../../src/rpc/index.js";
import { Code } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DescriptorsRequestSchema } from "../../src/gen/goms/v1/node_pb.js";
import { FLAG_ACK, FrameType } from "../../src/internal/wire/frame.js";
import { addRequestBytes, fastConn, frame, HOST, RawPeer, requestFrame, sleep } from "../rpc/bad-input-kit.js";

const ADD = "goms.examples.v1.AddServer/Add";
let node: GomsNode;
let port: number;
/** Handlers that finished (after their delay), whatever happened to their call. */
let finished = 0;

before(async () => {
  node = createNode({ identity: { name: "frames" }, listen: { host: HOST, port: 0 }, limits: { connection: fastConn, shutdownGraceMs: 2000 } });
  // Add answers a + b after `a` ms, ignoring cancellation: a late result must still not be sent.
  node.service(AddServer, {
    async add(req) {
      if (req.a > 0) await sleep(req.a);
      finished++;
      return { sum: req.a + req.b };
    },
  });
  await node.start();
  port = node.port;
});

after(async () => {
  RawPeer.destroyAll();
  await node.close({ graceMs: 0 });
});

async function expectPE(bytes: Buffer, message: RegExp, setup?: (p: RawPeer) => Promise<void>): Promise<void> {
  const p = await RawPeer.handshake(port);
  await setup?.(p);
  p.send(bytes);
  const g = await p.waitGoAway();
  assert.equal(g.code, Code.InvalidArgument, g.message);
  assert.equal(g.lastCallId, 0);
  assert.match(g.message, message);
  await p.waitClosed();
}

function mdBlock(key: Buffer, value: Buffer): Buffer {
  const b = Buffer.alloc(3 + key.length + value.length);
  b[0] = key.length;
  key.copy(b, 1);
  b.writeUInt16BE(value.length, 1 + key.length);
  value.copy(b, 3 + key.length);
  return b;
}

describe("§5 call ids increase (serial arithmetic)", () => {
  it("a smaller id than the last REQUEST is a protocol error", async () => {
    await expectPE(requestFrame(9, ADD, addRequestBytes(0, 1)), /call id 9 does not increase on 10/, async (p) => {
      p.send(requestFrame(10, ADD, addRequestBytes(0, 1)));
      await p.waitResponse(10);
    });
  });

  it("the same id again (even after its answer) is a protocol error", async () => {
    await expectPE(requestFrame(4, ADD, addRequestBytes(0, 1)), /call id 4 does not increase/, async (p) => {
      p.send(requestFrame(4, ADD, addRequestBytes(0, 1)));
      await p.waitResponse(4);
    });
  });

  it("ids wrap: 0xFFFFFFFF is followed by 1 or more, and ids may skip", async () => {
    const p = await RawPeer.handshake(port);
    // The first id must be 1..2^31-1 (the previous id counts as 0); each later one within 2^31 of the last.
    const ids = [1, 0x7fffffff, 0xfffffffe, 0xffffffff, 2, 1000];
    p.send(Buffer.concat(ids.map((id, i) => requestFrame(id, ADD, addRequestBytes(0, i)))));
    for (const id of ids) assert.equal((await p.waitResponse(id)).status, 0);
    assert.ok(!p.closed);
  });

  it("a first id of 2^31 or more is a protocol error", async () => {
    await expectPE(requestFrame(0x80000000, ADD, addRequestBytes(0, 1)), /does not increase/);
  });

  it("a jump of 2^31 or more counts as going back: protocol error", async () => {
    await expectPE(requestFrame(0x80000005, ADD, addRequestBytes(0, 1)), /does not increase/, async (p) => {
      p.send(requestFrame(5, ADD, addRequestBytes(0, 1)));
      await p.waitResponse(5);
    });
  });
});

describe("§9 GOAWAY", () => {
  it("a client GOAWAY with a body shorter than 5 bytes is a protocol error", () => expectPE(frame(FrameType.GoAway, 0, 0, Buffer.from([0, 0, 0, 0])), /GOAWAY body of 4 bytes/));

  it("client GOAWAY code 0: the calls in flight are answered, then the server closes", async () => {
    const p = await RawPeer.handshake(port);
    p.send(Buffer.concat([requestFrame(1, ADD, addRequestBytes(150, 1)), requestFrame(2, ADD, addRequestBytes(100, 2))]));
    await sleep(20);
    const body = Buffer.alloc(5);
    body.writeUInt32BE(2, 0);
    p.send(frame(FrameType.GoAway, 0, 0, body));
    assert.equal((await p.waitResponse(1)).status, 0);
    assert.equal((await p.waitResponse(2)).status, 0);
    await p.waitClosed();
  });

  it("server GOAWAY code 0 carries the last REQUEST id read; later REQUESTs are answered 14", async () => {
    const n = createNode({ identity: { name: "drainer" }, listen: { host: HOST, port: 0 }, limits: { connection: fastConn } });
    n.service(AddServer, { add: async (req) => (await sleep(req.a), { sum: req.a + req.b }) });
    await n.start();
    try {
      const p = await RawPeer.handshake(n.port);
      p.send(Buffer.concat([requestFrame(20, ADD, addRequestBytes(300, 0)), requestFrame(21, ADD, addRequestBytes(300, 0))]));
      await sleep(20);
      const closing = n.close({ graceMs: 2000 });
      const g = await p.waitGoAway();
      assert.equal(g.code, 0);
      assert.equal(g.lastCallId, 21);
      p.send(requestFrame(22, ADD, addRequestBytes(0, 0)));
      assert.equal((await p.waitResponse(22)).status, Code.Unavailable);
      assert.equal((await p.waitResponse(20)).status, 0);
      assert.equal((await p.waitResponse(21)).status, 0);
      await closing;
    } finally {
      await n.close({ graceMs: 0 });
    }
  });
});

describe("§9 CANCEL", () => {
  it("a cancelled call is never answered, even when its handler finishes later", async () => {
    const p = await RawPeer.handshake(port);
    const before = finished;
    p.send(requestFrame(1, ADD, addRequestBytes(150, 1)));
    await sleep(20);
    p.send(frame(FrameType.Cancel, 0, 1));
    p.send(requestFrame(2, ADD, addRequestBytes(250, 2)));
    assert.equal((await p.waitResponse(2)).status, 0);
    assert.equal(finished, before + 2, "both handlers ran to the end");
    assert.ok(!p.frames.some((f) => f.type === FrameType.Response && f.callId === 1), "no RESPONSE for the cancelled call");
  });

  it("a CANCEL for an unknown id is ignored", async () => {
    const p = await RawPeer.handshake(port);
    p.send(Buffer.concat([frame(FrameType.Cancel, 0, 12345), requestFrame(1, ADD, addRequestBytes(0, 5))]));
    assert.equal((await p.waitResponse(1)).status, 0);
    assert.ok(!p.closed);
  });

  it("a CANCEL with a body is a protocol error", () => expectPE(frame(FrameType.Cancel, 0, 1, Buffer.from([1])), /CANCEL with a 1-byte body/));
});

describe("§9 PING", () => {
  it("a PING whose body is not 8 bytes is a protocol error", () => expectPE(frame(FrameType.Ping, 0, 0, Buffer.alloc(7)), /PING body of 7 bytes/));

  it("an 8-byte PING is acknowledged with the same body; an ACK with an unknown body is ignored", async () => {
    const p = await RawPeer.handshake(port);
    p.send(frame(FrameType.Ping, FLAG_ACK, 0, Buffer.alloc(8, 9)));
    p.send(frame(FrameType.Ping, 0, 0, Buffer.from("12345678")));
    const ack = await p.waitFrame((f) => f.type === FrameType.Ping && (f.flags & FLAG_ACK) !== 0);
    assert.equal(ack.body.toString(), "12345678");
    assert.ok(!p.closed);
  });
});

describe("§7 metadata", () => {
  it("an upper-case key is a protocol error", () => expectPE(requestFrame(1, ADD, addRequestBytes(0, 1), { metadata: mdBlock(Buffer.from("Foo"), Buffer.from("x")) }), /invalid metadata key "Foo"/));

  it("a value that is not UTF-8 is a protocol error", () => expectPE(requestFrame(1, ADD, addRequestBytes(0, 1), { metadata: mdBlock(Buffer.from("k"), Buffer.from([0xc3, 0x28])) }), /not valid UTF-8/));

  it("valid keys and UTF-8 values are served", async () => {
    const p = await RawPeer.handshake(port);
    p.send(requestFrame(1, ADD, addRequestBytes(0, 1), { metadata: Buffer.concat([mdBlock(Buffer.from("a-b_c.9"), Buffer.from("é€")), mdBlock(Buffer.from("a-b_c.9"), Buffer.alloc(0))]) }));
    assert.equal((await p.waitResponse(1)).status, 0);
  });
});

describe("§13 NodeService.Descriptors", () => {
  it("a service the node does not host is not_found; a hosted one is described", async () => {
    const c = createNode({ identity: { name: "asker" }, peers: { addresses: [{ host: HOST, port }] } });
    await c.start();
    try {
      const svc = c.client(NodeService);
      const on = { node: "frames", timeoutMs: 2000 };
      await assert.rejects(svc.descriptors(create(DescriptorsRequestSchema, { services: ["pkg.Nope"] }), on), (e: { code: number }) => e.code === Code.NotFound);
      const ok = await svc.descriptors({ services: ["goms.examples.v1.AddServer"] }, on);
      assert.ok(ok.files?.file.some((f) => f.name.endsWith("add.proto")));
    } finally {
      await c.close({ graceMs: 0 });
    }
  });
});
