// Fuzz: random and mutated inputs must decode exactly like fromBinary, or throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getCodec } from "../../src/codec/index.js";
import { AllTypesSchema, NestedSchema } from "../gen/goms/test/v1/all_types_pb.js";
import { AllTypesProto2Schema, HasGroupChildSchema } from "../gen/goms/test/v1/all_types_proto2_pb.js";
import { BenchmarkMessageSchema } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { messageArb } from "./arbitrary.js";
import { assertSameMessage } from "./helpers.js";

const RUNS = Number(process.env.CODEC_RUNS ?? 300);

/**
 * Deliberate differences: fromBinary is lenient where we are strict. It reads
 * a known field whatever its wire type, lets a length-delimited value or a
 * packed run extend past the end of its enclosing message (as long as the
 * whole buffer has the bytes), and accepts packed elements straddling the
 * packed length. We throw for all of these; these are the only errors we may
 * raise on input fromBinary accepts.
 */
const STRICTER = /wrong wire type|length past end|premature EOF|packed field overrun|map entry overrun/;

function check(desc: DescMessage, bytes: Uint8Array, stats: { stricter: number; same: number; bothThrow: number }): void {
  let ref: unknown;
  let refErr: unknown;
  try {
    ref = fromBinary(desc, bytes);
  } catch (e) {
    refErr = e;
  }
  let ours: unknown;
  let ourErr: unknown;
  try {
    ours = getCodec(desc).decode(bytes);
  } catch (e) {
    ourErr = e;
  }
  if (refErr !== undefined) {
    assert.ok(ourErr instanceof Error, `fromBinary threw (${String(refErr)}) but decode returned a value`);
    stats.bothThrow++;
  } else if (ourErr === undefined) {
    assertSameMessage(desc, ours, ref);
    stats.same++;
  } else {
    assert.ok(ourErr instanceof Error && STRICTER.test(ourErr.message), `unexpected error on input fromBinary accepts: ${String(ourErr)}`);
    stats.stricter++;
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
);

function mutate(src: Uint8Array, ms: { kind: string; at: number; value?: number; bytes?: Uint8Array; n?: number }[]): Uint8Array {
  let b = Array.from(src);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === "flip" && at < b.length) b[at] = m.value ?? 0;
    else if (m.kind === "truncate") b = b.slice(0, at);
    else if (m.kind === "insert") b.splice(at, 0, ...(m.bytes ?? []));
    else if (m.kind === "delete") b.splice(at, m.n ?? 1);
  }
  return new Uint8Array(b);
}

for (const desc of [AllTypesSchema, NestedSchema, AllTypesProto2Schema, BenchmarkMessageSchema, HasGroupChildSchema] as DescMessage[]) {
  test(`${desc.typeName}: random bytes decode like fromBinary or throw`, () => {
    const stats = { stricter: 0, same: 0, bothThrow: 0 };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => check(desc, bytes, stats)), { numRuns: RUNS * 3 });
  });

  test(`${desc.typeName}: mutated valid encodings decode like fromBinary or throw`, () => {
    const stats = { stricter: 0, same: 0, bothThrow: 0 };
    fc.assert(
      fc.property(messageArb(desc, { maxDepth: 2 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (init, ms) => {
        const bytes = toBinary(desc, create(desc, init as never));
        check(desc, mutate(bytes, ms), stats);
      }),
      { numRuns: RUNS * 2 },
    );
    // The mutations must exercise both outcomes, or the property is vacuous.
    assert.ok(stats.same > 0 && stats.bothThrow > 0, JSON.stringify(stats));
  });
}
