// The codec's UTF-8 helpers against TextEncoder/TextDecoder (what @bufbuild/protobuf uses),
// on random strings and on random bytes, valid or not, short (JS paths) and long (native paths).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readString, utf8Length, writeString } from "../../src/codec/utf8.js";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const enc = new TextEncoder();

function decodeLikeTextDecoder(bytes: Uint8Array, strict: boolean): string | Error {
  try {
    return (strict ? fatal : lenient).decode(bytes);
  } catch (e) {
    return e as Error;
  }
}

/** Bytes that are mostly UTF-8 of random text, with random corruption. */
const nearUtf8 = fc
  .tuple(fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
  .map(([s, flips]) => {
    const b = enc.encode(s);
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return b;
  });

test("readString decodes exactly like TextDecoder, fatal or lenient, at every length", () => {
  fc.assert(
    fc.property(fc.oneof(nearUtf8, fc.uint8Array({ maxLength: 100 })), fc.boolean(), fc.nat({ max: 7 }), (bytes, strict, pad) => {
      // Decode from inside a larger buffer, as the codec does.
      const buf = Buffer.alloc(bytes.length + 2 * pad);
      buf.set(bytes, pad);
      const want = decodeLikeTextDecoder(bytes, strict);
      let got: string | Error;
      try {
        got = readString(buf, pad, pad + bytes.length, strict);
      } catch (e) {
        got = e as Error;
      }
      if (want instanceof Error) assert.ok(got instanceof Error, `expected an error for ${Buffer.from(bytes).toString("hex")}`);
      else assert.equal(got, want);
    }),
    { numRuns: 3000 },
  );
});

test("writeString writes what TextEncoder writes, with a varint length prefix", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 120 }), (s) => {
      const want = enc.encode(s);
      assert.equal(utf8Length(s), want.length);
      const buf = Buffer.alloc(3 * s.length + 5);
      const end = writeString(buf, 0, s);
      let len = 0;
      let shift = 0;
      let p = 0;
      for (;;) {
        const b = buf[p++]!;
        len |= (b & 127) << shift;
        if (b < 128) break;
        shift += 7;
      }
      assert.equal(len, want.length);
      assert.deepEqual(buf.subarray(p, end), Buffer.from(want));
    }),
    { numRuns: 2000 },
  );
});
