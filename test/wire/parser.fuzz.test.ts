// Property tests for the wire layer: the streaming FrameParser, the metadata
// codec, and (lightly) a whole server fed random bytes.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { FrameParser } from "../../src/internal/wire/parser.js";
import { FRAME_MIN_LENGTH, FrameType, PayloadCodec } from "../../src/internal/wire/frame.js";
import { type Metadata, readMetadata, writeMetadata } from "../../src/internal/wire/metadata.js";
import { ADD, assertHealthy, eventually, fastConn, frame, QUERY, RawPeer, requestFrame, serverStats, sleep, startTarget } from "../rpc/bad-input-kit.js";

interface Got {
  type: number;
  flags: number;
  callId: number;
  body: number[];
}

type Event = Got | { error: string };

/** Feeds `chunks` to a fresh parser; with `pauseAt`, pauses after those frame indexes and resumes after the next push. */
function parseChunks(chunks: Uint8Array[], maxFrameSize: number, pauseAt: ReadonlySet<number> = new Set()): Event[] {
  const out: Event[] = [];
  let frames = 0;
  let paused = false;
  const parser: FrameParser = new FrameParser(
    {
      onFrame(type, flags, callId, buf, start, end) {
        assert.ok(start >= 0 && start <= end && end <= buf.length, "frame bounds inside the buffer");
        out.push({ type, flags, callId, body: [...buf.subarray(start, end)] });
        if (pauseAt.has(frames++)) {
          paused = true;
          parser.pause();
        }
      },
      onFrameError(message) {
        out.push({ error: message });
      },
    },
    maxFrameSize,
  );
  const resume = (): void => {
    paused = false;
    parser.resume();
  };
  for (const c of chunks) {
    parser.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    if (paused) resume(); // like a socket 'drain' arriving between reads
  }
  while (paused) resume(); // drain whatever is held back
  return out;
}

/** Reference parser: the whole stream at once, the obvious way. */
function reference(bytes: Uint8Array, maxFrameSize: number): Event[] {
  const b = Buffer.from(bytes);
  const out: Event[] = [];
  let pos = 0;
  while (b.length - pos >= 4) {
    const len = b.readUInt32BE(pos);
    if (len < FRAME_MIN_LENGTH) {
      out.push({ error: `frame length ${len} is below the minimum of ${FRAME_MIN_LENGTH}` });
      break;
    }
    if (len > maxFrameSize) {
      out.push({ error: `frame length ${len} exceeds the limit of ${maxFrameSize} bytes` });
      break;
    }
    if (b.length - pos < len + 4) break;
    out.push({ type: b[pos + 4]!, flags: b[pos + 5]!, callId: b.readUInt32BE(pos + 6), body: [...b.subarray(pos + 10, pos + 4 + len)] });
    pos += 4 + len;
  }
  return out;
}

/** Splits `bytes` at the given (arbitrary, possibly repeated or out-of-range) cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p)); // empty chunks included on purpose
    prev = p;
  }
  return out;
}

const frameArb = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  callId: fc.integer({ min: 0, max: 0xffffffff }),
  body: fc.uint8Array({ maxLength: 300 }),
});

describe("FrameParser", () => {
  it("(a) any valid frame sequence, split at any chunk boundaries, yields exactly the frames fed whole", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat({ max: 40 }), { maxLength: 5 }),
        (frames, cuts, pauses) => {
          const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.callId, f.body)));
          const expected: Event[] = frames.map((f) => ({ type: f.type, flags: f.flags, callId: f.callId, body: [...f.body] }));
          const whole = parseChunks([bytes], 1024);
          assert.deepEqual(whole, expected);
          assert.deepEqual(parseChunks(split(bytes, cuts), 1024), expected);
          // Pausing (back-pressure) never loses, duplicates or reorders a frame.
          assert.deepEqual(parseChunks(split(bytes, cuts), 1024, new Set(pauses)), expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("(b) random byte streams never throw out of push(): frames, then at most one error, exactly like a reference parser", () => {
    // Half pure noise, half real frames with noise spliced in: the noise alone rarely gets past the first length.
    const streamArb = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc
        .tuple(fc.array(frameArb, { maxLength: 8 }), fc.uint8Array({ maxLength: 40 }), fc.nat())
        .map(([frames, noise, at]) => {
          const good = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.callId, f.body)));
          const i = at % (good.length + 1);
          return new Uint8Array(Buffer.concat([good.subarray(0, i), noise, good.subarray(i)]));
        }),
    );
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 6, max: 4096 }), (bytes, cuts, max) => {
        let events: Event[] = [];
        assert.doesNotThrow(() => {
          events = parseChunks(split(bytes, cuts), max);
        });
        const errors = events.filter((e) => "error" in e);
        assert.ok(errors.length <= 1, "at most one onFrameError");
        if (errors.length === 1) assert.ok("error" in events.at(-1)!, "nothing after the error");
        assert.deepEqual(events, reference(bytes, max));
      }),
      { numRuns: 400 },
    );
  });

  it("refuses a 4 GiB length from the prefix alone", () => {
    assert.deepEqual(parseChunks([Uint8Array.of(0xff), Uint8Array.of(0xff, 0xff), Uint8Array.of(0xff, 1)], 1 << 24), [
      { error: "frame length 4294967295 exceeds the limit of 16777216 bytes" },
    ]);
  });
});

// Keys: the legal alphabet, plus names that are special on plain JS objects.
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9_.-]{1,40}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9_.-]{200,255}$/) },
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "hasownproperty", "tostring", "valueof") },
);
const valueArb = fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.string({ maxLength: 2000 }));

describe("metadata", () => {
  it("(c) writeMetadata/readMetadata round-trip any valid keys and values", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => k, maxLength: 12 }), (entries) => {
        const md: Metadata = Object.fromEntries(entries);
        const buf = Buffer.alloc(70_000);
        const end = writeMetadata(md, buf, 3, buf.length);
        assert.ok(end >= 3);
        const back = readMetadata(buf, 3, end);
        // (sorted: integer-like keys such as "0" are enumerated first by JS objects)
        const sorted = (e: [string, string][]): [string, string][] => [...e].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        assert.deepEqual(sorted(Object.entries(back)), sorted(entries));
        // With a limit below the encoded size the writer reports -1 instead of overrunning.
        if (end > 3) assert.equal(writeMetadata(md, Buffer.alloc(70_000), 0, end - 4), -1);
      }),
      { numRuns: 300 },
    );
  });

  it("(c) readMetadata on random bytes returns or throws RangeError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const buf = Buffer.from(bytes);
        const start = a % (buf.length + 1);
        const end = start + (b % (buf.length - start + 1));
        try {
          const md = readMetadata(buf, start, end);
          for (const [k, v] of Object.entries(md)) {
            assert.match(k, /^[a-z0-9_.-]{1,255}$/);
            assert.equal(typeof v, "string");
          }
        } catch (err) {
          assert.ok(err instanceof RangeError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("server fed random bytes (end to end)", () => {
  after(() => RawPeer.destroyAll());

  it("(d) random bytes after a valid preface + HELLO never crash the server", async () => {
    const t = await startTarget({ limits: { connection: { ...fastConn, maxFrameSize: 64 * 1024 } } });
    try {
      const junk = fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        // Plausible frames with random fields, so the fuzz reaches the REQUEST decoder.
        fc
          .array(
            fc.oneof(
              fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 255 }), fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([ty, fl, id, body]) => frame(ty, fl, id, body)),
              fc
                .tuple(
                  fc.integer({ min: 0, max: 20 }),
                  fc.constantFrom(ADD, QUERY, "goms.v1.NodeService/Info", "x/y", ""),
                  fc.uint8Array({ maxLength: 32 }),
                  fc.constantFrom(PayloadCodec.Proto, PayloadCodec.Json, 7),
                  fc.uint8Array({ maxLength: 12 }),
                  fc.nat({ max: 1000 }),
                )
                .map(([id, m, payload, codec, md, timeoutMs]) => requestFrame(id, m, payload, { codec, metadata: md, timeoutMs })),
            ),
            { minLength: 1, maxLength: 6 },
          )
          .map((frames) => new Uint8Array(Buffer.concat(frames))),
      );
      await fc.assert(
        fc.asyncProperty(junk, async (bytes) => {
          const p = await RawPeer.handshake(t.port, "fuzzer");
          p.send(bytes);
          await Promise.race([p.closedPromise, sleep(25)]);
          for (const f of p.frames) {
            assert.ok(([FrameType.Hello, FrameType.Response, FrameType.GoAway, FrameType.Ping] as number[]).includes(f.type), `server sent frame type ${f.type}`);
          }
          p.destroy();
        }),
        { numRuns: 50 },
      );
      await eventually(async () => (await serverStats(t)).connections === 0, 3000, "fuzz connections to close");
      await assertHealthy(t);
    } finally {
      await t.close();
    }
  });
});
