// Property tests: our codec vs @bufbuild toBinary/fromBinary, for every test message.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getCodec } from "../../src/codec/index.js";
import { AllTypesSchema, NestedSchema } from "../gen/goms/test/v1/all_types_pb.js";
import { AllTypesProto2Schema, HasGroupChildSchema, Proto2ChildSchema } from "../gen/goms/test/v1/all_types_proto2_pb.js";
import { BenchmarkMessageSchema } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { messageArb } from "./arbitrary.js";
import { assertSameMessage, hex } from "./helpers.js";

const schemas: DescMessage[] = [AllTypesSchema, NestedSchema, AllTypesProto2Schema, Proto2ChildSchema, BenchmarkMessageSchema, HasGroupChildSchema];
const RUNS = Number(process.env.CODEC_RUNS ?? 300);

for (const desc of schemas) {
  const codec = getCodec(desc);

  test(`${desc.typeName}: encode(init) bytes === toBinary(create(init))`, () => {
    fc.assert(
      fc.property(messageArb(desc, { loneSurrogates: true }), (init) => {
        const expected = toBinary(desc, create(desc, init as never));
        assert.equal(hex(codec.encode(init as never)), hex(expected));
        // Full messages (as create() returns them) encode the same.
        assert.equal(hex(codec.encode(create(desc, init as never) as never)), hex(expected));
      }),
      { numRuns: RUNS },
    );
  });

  test(`${desc.typeName}: decode(toBinary(m)) equals fromBinary(toBinary(m))`, () => {
    fc.assert(
      fc.property(messageArb(desc, { loneSurrogates: true }), (init) => {
        const bytes = toBinary(desc, create(desc, init as never));
        assertSameMessage(desc, codec.decode(bytes), fromBinary(desc, bytes));
      }),
      { numRuns: RUNS },
    );
  });

  test(`${desc.typeName}: fromBinary(encode(m)) equals m, and decode(encode(m)) too`, () => {
    fc.assert(
      fc.property(messageArb(desc), (init) => {
        const m = create(desc, init as never);
        const bytes = codec.encode(init as never);
        assertSameMessage(desc, fromBinary(desc, bytes), m);
        assertSameMessage(desc, codec.decode(bytes), m);
      }),
      { numRuns: RUNS },
    );
  });

  test(`${desc.typeName}: encodeInto a shared Writer at arbitrary offsets`, async () => {
    const { Writer } = await import("../../src/codec/index.js");
    const w = new Writer(64);
    fc.assert(
      fc.property(messageArb(desc), fc.nat(300), (init, pad) => {
        w.ensure(pad);
        w.pos += pad;
        const rel = w.pos - w.start; // the writer may move its pending region when it grows
        codec.encodeInto(init as never, w);
        const at = w.start + rel;
        const out = w.buf.subarray(at, w.pos);
        assert.equal(hex(out), hex(toBinary(desc, create(desc, init as never))));
        assertSameMessage(desc, codec.decode(w.buf, at, w.pos), fromBinary(desc, out));
        w.take();
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
}
