// Fuzz targets for the wire layer (issues 10 and 11):
//  - wire-streams: stream frames (types 7..11, random flags, ids and bodies) after
//    a valid handshake and STREAM_OPEN, into a server connection hosting a
//    streaming service: same guarantees as below;
//  - wire-frame-parser: random byte streams, cut into random chunks, into the
//    streaming FrameParser under the 16 KiB handshake limit and a raised one;
//  - wire-handshake: random and mutated byte streams into a server connection
//    that has not completed its handshake, driven without a socket.
// Whatever the bytes, nothing throws out of the parser or the connection, and
// the server's output is always well-formed: a preface reply and whole frames,
// ending (if the peer broke the protocol) with one GOAWAY 3 and a close.
import { newStreamCounters } from "../../src/internal/conn/stream-counters.js";
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { HelloSchema, NodeIdentitySchema } from "../../src/gen/goms/v1/node_pb.js";
import { defaultConnOptions } from "../../src/internal/conn/options.js";
import { ServerConn } from "../../src/internal/conn/server-conn.js";
import type { Dispatcher } from "../../src/internal/conn/dispatcher.js";
import { FrameParser } from "../../src/internal/wire/parser.js";
import { FRAME_MIN_LENGTH, FrameType, HANDSHAKE_FRAME_LIMIT, MAGIC } from "../../src/internal/wire/frame.js";
import { assertInBatches, type FuzzTarget } from "./target.js";
import { ServiceTable } from "../../src/rpc/services.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { newProbe, streamImpl } from "../streams/fixture.js";

interface Parsed {
  frames: { type: number; callId: number; body: Buffer }[];
  error: string | undefined;
}

function parseAll(chunks: readonly Uint8Array[], limit: number, raiseAfterFirst = false): Parsed {
  const out: Parsed = { frames: [], error: undefined };
  const parser: FrameParser = new FrameParser(
    {
      onFrame(type, _flags, callId, buf, start, end) {
        assert.ok(out.error === undefined, "no frame after an error");
        assert.ok(start >= 0 && start <= end && end <= buf.length);
        assert.ok(end - start + FRAME_MIN_LENGTH <= parser.maxFrameSize, "frame within the limit in force");
        out.frames.push({ type, callId, body: Buffer.from(buf.subarray(start, end)) });
        // Like a connection whose handshake completes with its first frame.
        if (raiseAfterFirst) parser.maxFrameSize = 1 << 20;
      },
      onFrameError(message) {
        assert.ok(out.error === undefined, "at most one error");
        out.error = message;
      },
    },
    limit,
  );
  for (const c of chunks) parser.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return out;
}

/** A frame header with a random (often plausible) length, then some body bytes. */
const frameish = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 40_000 }), fc.constant(0xffffffff)), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 80 }))
  .map(([len, type, body]) => {
    const b = Buffer.alloc(10 + body.length);
    b.writeUInt32BE(len, 0);
    b[4] = type;
    b.set(body, 10);
    return new Uint8Array(b);
  });

const byteStream = fc.array(fc.oneof(frameish, fc.uint8Array({ maxLength: 64 })), { maxLength: 6 }).map((parts) => Buffer.concat(parts));

/** Splits `bytes` at the given cut points (sorted, deduplicated). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

// ---- the server side of a handshake, without a socket ---------------------------

const hello = create(HelloSchema, { node: create(NodeIdentitySchema, { name: "fuzz-server" }) });
const dispatcher: Dispatcher = {
  maxConcurrentCalls: 16,
  accepting: true,
  lookup: () => undefined,
  missing: (path) => new GomsError(`no ${path}`, Code.NotFound),
  hello: () => hello,
  admit: () => undefined,
  finished: () => undefined,
  admission: undefined,
  unaryCalls: 0,
  streamCounters: newStreamCounters(),
};
const opts = { ...defaultConnOptions, handshakeTimeoutMs: 60_000 };
const events = { onHello: () => undefined, onClose: () => undefined, onDrained: () => undefined };

function prefaceBytes(): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(MAGIC, 0);
  b[4] = 1;
  b[5] = 1;
  return b;
}

function frameBytes(type: number, callId: number, body: Uint8Array): Buffer {
  const b = Buffer.alloc(10 + body.length);
  b.writeUInt32BE(6 + body.length, 0);
  b[4] = type;
  b.writeUInt32BE(callId >>> 0, 6);
  b.set(body, 10);
  return b;
}

const helloBody = toBinary(HelloSchema, create(HelloSchema, { node: create(NodeIdentitySchema, { name: "fuzz-client" }) }));
/** A valid opening: preface, HELLO, one REQUEST; mutations of it reach deeper than random bytes. */
const validOpening = Buffer.concat([prefaceBytes(), frameBytes(FrameType.Hello, 0, helloBody), frameBytes(FrameType.Request, 1, Buffer.from([0, 0, 0, 0, 0, 3, 0x61, 0x2f, 0x62, 0, 0]))]);

const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map((flips) => {
  const b = Buffer.from(validOpening);
  for (const [at, v] of flips) b[at % b.length] = v;
  return b;
});
const handshakeInput = fc.oneof(
  mutated,
  byteStream.map((rest) => Buffer.concat([prefaceBytes(), rest])),
  byteStream.map((rest) => Buffer.concat([prefaceBytes(), frameBytes(FrameType.Hello, 0, helloBody), rest])),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
);

/** Feeds `chunks` to a fresh ServerConn and checks what it wrote back. */
function driveHandshake(chunks: readonly Uint8Array[], d: Dispatcher = dispatcher): void {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  stream.on("error", () => undefined);
  const conn = new ServerConn(stream, opts, d, { remoteAddress: "fuzz" }, events);
  try {
    for (const c of chunks) {
      if (conn.closed) break;
      stream.emit("data", Buffer.from(c));
    }
    const out = Buffer.concat(written);
    if (out.length === 0) return; // not a goms peer (or not enough bytes yet): closed without a word, or still waiting
    assert.ok(out.length >= 8 && out.readUInt32BE(0) === MAGIC, "the server's first bytes are its preface");
    const got = parseAll([out.subarray(8)], 1 << 24);
    assert.equal(got.error, undefined, `the server wrote a malformed frame: ${got.error}`);
    const goaways = got.frames.filter((f) => f.type === FrameType.GoAway);
    assert.ok(goaways.length <= 1, "at most one GOAWAY");
    if (goaways.length === 1) {
      const g = goaways[0]!;
      assert.equal(got.frames.at(-1), g, "nothing after the GOAWAY");
      assert.ok(g.body.length >= 5);
      assert.equal(g.body.readUInt32BE(0), 0, "a protocol-error GOAWAY carries last_call_id 0");
      assert.equal(g.body[4], Code.InvalidArgument);
      assert.ok(conn.closed, "GOAWAY 3 is followed by the close");
    }
    if (conn.remote === undefined) assert.ok(!got.frames.some((f) => f.type === FrameType.Response), "no RESPONSE before the HELLO is accepted");
  } finally {
    conn.destroy();
    stream.destroy();
  }
}

// ---- stream frames (docs/protocol.md §15) after a valid handshake ---------------

const streamTable = new ServiceTable([]);
streamTable.add(StreamTest, streamImpl(newProbe()), {});
const streamDispatcher: Dispatcher = { ...dispatcher, lookup: (p) => streamTable.lookup(p) };
const openBody = (method: string): Buffer => {
  const m = Buffer.from(method, "latin1");
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, m.length]), m, Buffer.from([0, 0])]);
};
/** A stream frame with a plausible type (7..11), flags, a small stream id and a short body. */
const streamFrame = fc
  .tuple(fc.integer({ min: 7, max: 11 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 24 }))
  .map(([type, flags, id, body]) => {
    const b = frameBytes(type, id, body);
    b[5] = flags;
    return b;
  });
const streamInput = fc
  .tuple(fc.constantFrom("Count", "Sum", "Echo"), fc.array(streamFrame, { maxLength: 8 }))
  .map(([method, rest]) =>
    Buffer.concat([prefaceBytes(), frameBytes(FrameType.Hello, 0, helloBody), frameBytes(FrameType.StreamOpen, 1, openBody(`goms.test.v1.StreamTest/${method}`)), ...rest]),
  );

export const wireTargets: FuzzTarget[] = [
  {
    name: "wire-streams",
    check(runs) {
      return assertInBatches(
        () =>
          fc.property(streamInput, fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
            driveHandshake(cut(bytes, cuts), streamDispatcher);
          }),
        runs,
      );
    },
  },
  {
    name: "wire-frame-parser",
    check(runs) {
      fc.assert(
        fc.property(byteStream, fc.array(fc.nat(), { maxLength: 5 }), fc.boolean(), (bytes, cuts, raise) => {
          const whole = parseAll([bytes], HANDSHAKE_FRAME_LIMIT, raise);
          const split = parseAll(cut(bytes, cuts), HANDSHAKE_FRAME_LIMIT, raise);
          // Chunking never changes what comes out.
          assert.deepEqual(split, whole);
        }),
        { numRuns: runs },
      );
    },
  },
  {
    name: "wire-handshake",
    check(runs) {
      return assertInBatches(
        () =>
          fc.property(handshakeInput, fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
            driveHandshake(cut(bytes, cuts));
          }),
        runs,
      );
    },
  },
];
