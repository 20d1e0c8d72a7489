// The server survives malformed peers: bad prefaces, garbage frames, truncated
// frames, absurd lengths, unknown methods, undecodable payloads and broken
// REQUEST headers. Real TCP on 127.0.0.1; attackers are hand-written sockets.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type GomsNode } from "../../src/rpc/index.js";
import { Code } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { WatchService } from "../../src/gen/goms/v1/watch_pb.js";
import { createJsonCaller } from "../../src/json-call/index.js";
import { FrameType, PayloadCodec } from "../../src/internal/wire/frame.js";
import {
  ADD,
  addRequestBytes,
  assertHealthy,
  eventually,
  fastConn,
  frame,
  gc,
  helloFrame,
  isCodeError,
  preface,
  RawPeer,
  requestFrame,
  serverStats,
  startClient,
  startTarget,
  type Target,
} from "./bad-input-kit.js";

let t: Target;
/** A good client connected for the whole file: must keep working next to every attack. */
let good: GomsNode;

before(async () => {
  t = await startTarget({ limits: { connection: fastConn } });
  good = await startClient(t.port);
});

after(async () => {
  RawPeer.destroyAll();
  await good.close({ graceMs: 0 });
  await t.close();
});

/** After each attack: the long-lived client still works, a fresh one too, and no attacker connection lingers. */
async function stillHealthy(): Promise<void> {
  const res = await good.client(AddServer).add({ a: 1, b: 2 }, { timeoutMs: 2000 });
  assert.equal(res.sum, 3);
  await assertHealthy(t);
  // Only the long-lived good client stays connected (probe connections close asynchronously).
  await eventually(async () => (await serverStats(t)).connections === 1, 2000, "attacker connections to be gone");
}

/** Sends `bytes` after a completed handshake and expects GOAWAY(code, message) then close. */
async function expectProtocolError(bytes: Buffer, message: RegExp, code: Code = Code.InvalidArgument): Promise<void> {
  const p = await RawPeer.handshake(t.port);
  p.send(bytes);
  const g = await p.waitGoAway();
  assert.equal(g.code, code, `GOAWAY code for ${g.message}`);
  assert.match(g.message, /^protocol error: /);
  assert.match(g.message, message);
  await p.waitClosed();
  await stillHealthy();
}

describe("1. not a goms peer", () => {
  it("random bytes instead of a preface: closed without a preface reply", async () => {
    let junk = randomBytes(256);
    if (junk.toString("latin1", 0, 4) === "GOMS") junk = Buffer.concat([Buffer.from("XXXX"), junk]);
    const p = await RawPeer.connect(t.port);
    p.send(junk);
    await p.waitClosed();
    assert.equal(p.prefaceReply, undefined, "the server must not answer a non-goms peer");
    await stillHealthy();
  });

  it("an HTTP request: closed", async () => {
    const p = await RawPeer.connect(t.port);
    p.send(Buffer.from("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    await p.waitClosed();
    assert.equal(p.prefaceReply, undefined);
    await stillHealthy();
  });

  it("a few bytes of preface and then silence: closed by the handshake timeout", async () => {
    const p = await RawPeer.connect(t.port);
    const started = Date.now();
    p.send(preface().subarray(0, 5));
    await p.waitClosed(2000);
    assert.ok(Date.now() - started >= fastConn.handshakeTimeoutMs - 20, "closed by the handshake timer, not at once");
    await stillHealthy();
  });

  it("no common protocol version: the reply offers version 0, then close", async () => {
    const p = await RawPeer.connect(t.port);
    p.send(preface(7, 9));
    await p.waitClosed();
    assert.ok(p.prefaceReply !== undefined);
    assert.equal(p.prefaceReply.toString("latin1", 0, 4), "GOMS");
    assert.equal(p.prefaceReply[4], 0);
    assert.equal(p.frames.length, 0);
    await stillHealthy();
  });
});

describe("2. valid preface, then garbage", () => {
  async function afterPreface(bytes: Buffer, message: RegExp): Promise<void> {
    const p = await RawPeer.connect(t.port);
    p.send(Buffer.concat([preface(), bytes]));
    const g = await p.waitGoAway();
    assert.equal(g.code, Code.InvalidArgument);
    assert.match(g.message, message);
    await p.waitClosed();
    assert.equal(p.prefaceReply?.[4], 1, "preface was accepted (version 1)");
    await stillHealthy();
  }

  it("a REQUEST as the first frame: GOAWAY expected HELLO", () =>
    afterPreface(requestFrame(1, ADD, addRequestBytes(1, 2)), /protocol error: expected HELLO, got frame type 2/));

  it("a frame of unknown type first: GOAWAY expected HELLO", () => afterPreface(frame(0x7f, 0, 0, randomBytes(20)), /expected HELLO, got frame type 127/));

  it("text instead of frames: GOAWAY (length too large)", () =>
    afterPreface(Buffer.from("GET / HTTP/1.1\r\n\r\n"), /frame length \d+ exceeds the limit of 16384 bytes/));

  it("a frame length below the header size: GOAWAY", () => afterPreface(Buffer.from([0, 0, 0, 1, 2, 3, 4, 5]), /frame length 1 is below the minimum of 6/));

  it("a HELLO whose body is not a Hello message: GOAWAY malformed HELLO", () =>
    afterPreface(frame(FrameType.Hello, 0, 0, Buffer.from([0xff, 0xff, 0xff, 0xff])), /malformed HELLO/));

  it("after HELLO: a frame type the server never accepts (RESPONSE, unknown 200)", async () => {
    await expectProtocolError(frame(FrameType.Response, 0, 1, Buffer.alloc(8)), /unexpected frame type 3 from client/);
    await expectProtocolError(frame(200, 0, 1), /unexpected frame type 200 from client/);
  });

  it("after HELLO: a second HELLO", () => expectProtocolError(helloFrame("again"), /duplicate HELLO/));
});

describe("3. truncated frames", () => {
  it("a REQUEST cut in the middle, then the socket ends: the server closes its side", async () => {
    const p = await RawPeer.handshake(t.port);
    const req = requestFrame(1, ADD, addRequestBytes(1, 2));
    p.send(req.subarray(0, 17));
    p.socket.end();
    await p.waitClosed();
    assert.equal(p.frames.filter((f) => f.type === FrameType.Response).length, 0, "no response to half a request");
    await stillHealthy();
  });

  it("a header announcing more body than is ever sent: the heartbeat timeout closes it", async () => {
    const p = await RawPeer.handshake(t.port);
    p.answerPings = false;
    const hdr = Buffer.alloc(14);
    hdr.writeUInt32BE(100_000, 0); // promises 100 kB
    hdr[4] = FrameType.Request;
    hdr.writeUInt32BE(1, 6);
    const started = Date.now();
    p.send(hdr);
    // Server pings (every heartbeatMs) go unanswered; after heartbeatTimeoutMs it gives up.
    await p.waitClosed(3000);
    const took = Date.now() - started;
    assert.ok(took >= fastConn.heartbeatTimeoutMs - 20, `closed after ${took}ms: by the heartbeat, not at once`);
    assert.ok(p.frames.some((f) => f.type === FrameType.Ping), "the server pinged the silent peer first");
    await stillHealthy();
  });

  it("half a HELLO, then silence: the handshake timeout closes it", async () => {
    const p = await RawPeer.connect(t.port);
    const hello = helloFrame();
    const started = Date.now();
    p.send(Buffer.concat([preface(), hello.subarray(0, hello.length - 3)]));
    await p.waitClosed(3000);
    assert.ok(Date.now() - started >= fastConn.handshakeTimeoutMs - 20, "closed by the handshake timer");
    assert.equal(p.frames.length, 0);
    await stillHealthy();
  });

  it("a peer that completes the handshake and then says nothing (answers no PING) is closed", async () => {
    const p = await RawPeer.handshake(t.port);
    p.answerPings = false;
    const started = Date.now();
    await p.waitClosed(3000);
    assert.ok(Date.now() - started >= fastConn.heartbeatTimeoutMs - 20, "closed by the heartbeat timeout");
    await stillHealthy();
  });
});

describe("4. absurd length prefix", () => {
  async function hugeLength(withHello: boolean): Promise<void> {
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const p = withHello ? await RawPeer.handshake(t.port) : await RawPeer.connect(t.port);
    const bytes = Buffer.concat([withHello ? Buffer.alloc(0) : preface(), Buffer.from([0xff, 0xff, 0xff, 0xff, FrameType.Request, 0, 0, 0, 0, 1]), randomBytes(64)]);
    const started = Date.now();
    p.send(bytes);
    const g = await p.waitGoAway();
    assert.ok(Date.now() - started < 1000, "refused immediately");
    assert.equal(g.code, Code.InvalidArgument);
    // Before HELLO the limit is the 16 KiB handshake limit, after it the configured one.
    assert.equal(g.message, `protocol error: frame length 4294967295 exceeds the limit of ${withHello ? 16777216 : 16384} bytes`);
    await p.waitClosed();
    gc();
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 1024 * 1024, `arrayBuffers grew by ${grew} bytes after a 4 GiB length prefix`);
    await stillHealthy();
  }

  it("0xFFFFFFFF before HELLO: GOAWAY exceeds the limit, nothing allocated", () => hugeLength(false));
  it("0xFFFFFFFF after HELLO: GOAWAY exceeds the limit, nothing allocated", () => hugeLength(true));

  it("a length just above a configured maxFrameSize is refused too", async () => {
    const small = await startTarget({ limits: { connection: { ...fastConn, maxFrameSize: 1024 } } });
    try {
      const p = await RawPeer.handshake(small.port);
      p.send(requestFrame(1, ADD, Buffer.alloc(1100)));
      const g = await p.waitGoAway();
      assert.match(g.message, /frame length \d+ exceeds the limit of 1024 bytes/);
      await p.waitClosed();
      await assertHealthy(small);
    } finally {
      await small.close();
    }
  });
});

describe("5. unknown services and methods", () => {
  it("client API: unknown service -> NotFound, unknown method -> Unimplemented", async () => {
    // A service the target does not host, pinned to it:
    await assert.rejects(good.rawCall(WatchService.method.get, new Uint8Array(), { node: "target" }), isCodeError(Code.NotFound, /service goms\.v1\.WatchService is not hosted on node target/));
    // Declared in the proto but without a handler:
    await assert.rejects(good.rawCall(DB.method.update, new Uint8Array()), isCodeError(Code.Unimplemented, /DB\.Update is not implemented/));
    // By name, through the JSON-call module: a method no node publishes.
    await assert.rejects(createJsonCaller(good).call("goms.examples.v1.AddServer/Nope", "{}"), isCodeError(Code.Unimplemented, /has no method Nope/));
    await stillHealthy();
  });

  it("raw frames: NotFound / Unimplemented responses, and the connection stays usable", async () => {
    const p = await RawPeer.handshake(t.port);
    p.send(
      Buffer.concat([
        requestFrame(1, "goms.examples.v1.Nope/X", new Uint8Array()),
        requestFrame(2, "goms.examples.v1.AddServer/Nope", new Uint8Array()),
        requestFrame(3, "\u00ff\u0000/\u0001", new Uint8Array()),
        requestFrame(4, "goms.examples.v1.Nope.X", new Uint8Array()),
        requestFrame(5, "goms.examples.v1.DB/Update", new Uint8Array()),
        requestFrame(6, ADD, addRequestBytes(40, 2)),
      ]),
    );
    assert.equal((await p.waitResponse(1)).status, Code.NotFound);
    const r2 = await p.waitResponse(2);
    assert.equal(r2.status, Code.Unimplemented);
    assert.match(r2.message, /has no method Nope/);
    // Not printable ASCII, or no '/': a malformed name is invalid_argument (docs/protocol.md §5).
    assert.equal((await p.waitResponse(3)).status, Code.InvalidArgument);
    assert.equal((await p.waitResponse(4)).status, Code.InvalidArgument);
    assert.equal((await p.waitResponse(5)).status, Code.Unimplemented);
    const ok = await p.waitResponse(6);
    assert.equal(ok.status, 0);
    assert.deepEqual([...ok.payload], [0x08, 42], "AddResponse{sum: 42}");
    assert.ok(!p.closed);
    p.destroy();
    await stillHealthy();
  });
});

describe("6. wrong payloads", () => {
  it("client API: undecodable protobuf, wrong JSON types, malformed JSON -> InvalidArgument", async () => {
    // 0xff 0xff 0xff: a truncated varint tag; 0x0f: wire type 7 does not exist.
    await assert.rejects(good.rawCall(AddServer.method.add, Uint8Array.of(0xff, 0xff, 0xff)), isCodeError(Code.InvalidArgument, /cannot decode goms\.examples\.v1\.AddRequest/));
    await assert.rejects(good.rawCall(AddServer.method.add, Uint8Array.of(0x0f, 0x01)), isCodeError(Code.InvalidArgument, /cannot decode goms\.examples\.v1\.AddRequest/));
    // Field 1 (int32) sent as a length-delimited string.
    await assert.rejects(good.rawCall(AddServer.method.add, Uint8Array.of(0x0a, 0x03, 0x61, 0x62, 0x63)), isCodeError(Code.InvalidArgument));
    const json = createJsonCaller(good);
    await assert.rejects(json.call("AddServer.Add", '{"a":"x"}'), isCodeError(Code.InvalidArgument, /invalid goms\.examples\.v1\.AddRequest JSON/));
    await assert.rejects(json.call("AddServer.Add", '{"a":1.5}'), isCodeError(Code.InvalidArgument));
    await assert.rejects(json.call("AddServer.Add", '{"nope":1}'), isCodeError(Code.InvalidArgument));
    await assert.rejects(json.call("AddServer.Add", '{"a":'), isCodeError(Code.InvalidArgument));
    await assert.rejects(json.call("AddServer.Add", "[1,2]"), isCodeError(Code.InvalidArgument));
    // ... and the well-formed versions work on the same connection.
    assert.deepEqual([...(await good.rawCall(AddServer.method.add, addRequestBytes(2, 3))).message], [0x08, 5]);
    assert.equal((await json.call("AddServer.Add", '{"a":2,"b":3}')).json, '{"sum":5}');
    await stillHealthy();
  });

  it("raw frames: bad protobuf, bad JSON, unknown payload codec -> InvalidArgument responses", async () => {
    const p = await RawPeer.handshake(t.port);
    p.send(
      Buffer.concat([
        requestFrame(1, ADD, Uint8Array.of(0xff, 0xff, 0xff)),
        requestFrame(2, ADD, Buffer.from('{"a":"x"}'), { codec: PayloadCodec.Json }),
        requestFrame(3, ADD, Buffer.from("{{{"), { codec: PayloadCodec.Json }),
        requestFrame(4, ADD, addRequestBytes(1, 1), { codec: 9 }),
        requestFrame(5, ADD, Buffer.from([0xc3, 0x28]), { codec: PayloadCodec.Json }), // invalid UTF-8
        requestFrame(6, ADD, Buffer.from('{"a":1,"b":2}'), { codec: PayloadCodec.Json }),
      ]),
    );
    for (const id of [1, 2, 3, 5]) assert.equal((await p.waitResponse(id)).status, Code.InvalidArgument, `call ${id}`);
    const r4 = await p.waitResponse(4);
    assert.equal(r4.status, Code.InvalidArgument);
    assert.match(r4.message, /unknown payload codec 9/);
    const r6 = await p.waitResponse(6);
    assert.equal(r6.status, 0);
    assert.equal(r6.codec, PayloadCodec.Json);
    assert.equal(r6.payload.toString(), '{"sum":3}');
    p.destroy();
    await stillHealthy();
  });
});

describe("9. broken REQUEST headers", () => {
  it("duplicate call id in flight: GOAWAY, and the parked handler is canceled", async () => {
    const p = await RawPeer.handshake(t.port);
    const abortsBefore = t.aborts.length;
    p.send(requestFrame(7, ADD, addRequestBytes(255, 0)));
    await eventually(() => t.hanging > 0, 2000, "the handler to park");
    p.send(requestFrame(7, ADD, addRequestBytes(1, 2)));
    const g = await p.waitGoAway();
    assert.equal(g.code, Code.InvalidArgument);
    assert.equal(g.message, "protocol error: call id 7 does not increase on 7 (or is still in flight)");
    await p.waitClosed();
    await eventually(() => t.aborts.length === abortsBefore + 1, 2000, "the parked handler's signal");
    assert.equal(t.aborts.at(-1)?.code, Code.Canceled);
    assert.equal((await serverStats(t)).callsInFlight, 0);
    await stillHealthy();
  });

  it("call id 0: GOAWAY", () => expectProtocolError(requestFrame(0, ADD, addRequestBytes(1, 2)), /call id 0 is not allowed/));

  it("an empty method name (method_len 0): GOAWAY", () => expectProtocolError(requestFrame(1, "", new Uint8Array()), /empty method name/));

  it("metadata length past the frame end: GOAWAY", () =>
    expectProtocolError(requestFrame(1, ADD, addRequestBytes(1, 2), { mdLen: 0xffff }), /REQUEST metadata past frame end/));

  it("method length past the frame end: GOAWAY", () =>
    expectProtocolError(requestFrame(1, "goms.X/Y", new Uint8Array(), { methodLen: 255 }), /REQUEST method past frame end/));

  it("a REQUEST body shorter than its fixed header: GOAWAY", () =>
    expectProtocolError(frame(FrameType.Request, 0, 1, Buffer.from([0, 0, 0])), /short REQUEST header/));

  it("a malformed metadata block (zero-length key, bad key, truncated value): GOAWAY", async () => {
    await expectProtocolError(requestFrame(1, ADD, new Uint8Array(), { metadata: Uint8Array.of(0, 0, 0) }), /malformed metadata block/);
    await expectProtocolError(requestFrame(1, ADD, new Uint8Array(), { metadata: Uint8Array.of(1, 0x41, 0, 0) }), /invalid metadata key "A"/);
    await expectProtocolError(requestFrame(1, ADD, new Uint8Array(), { metadata: Uint8Array.of(1, 0x61, 0, 9, 0x62) }), /malformed metadata block/);
  });

  it("a well-formed metadata block is accepted (the checks above are not over-eager)", async () => {
    const p = await RawPeer.handshake(t.port);
    const key = Buffer.from("trace-id");
    const value = Buffer.from("abc");
    const md = Buffer.concat([Buffer.from([key.length]), key, Buffer.from([0, value.length]), value]);
    p.send(requestFrame(1, ADD, addRequestBytes(1, 2), { metadata: md }));
    assert.equal((await p.waitResponse(1)).status, 0);
    p.destroy();
    await stillHealthy();
  });
});
