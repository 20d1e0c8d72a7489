// Targeted cases: malformed input, merge semantics, unknown fields, fallbacks, dynamic descriptors.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, createFileRegistry, fromBinary, setExtension, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { Writer, getCodec } from "../../src/codec/index.js";
import { AllTypesSchema, NestedSchema } from "../gen/goms/test/v1/all_types_pb.js";
import { AllTypesProto2Schema, WithGroupSchema, ext_int32, file_goms_test_v1_all_types_proto2 } from "../gen/goms/test/v1/all_types_proto2_pb.js";
import { assertSameMessage, hex } from "./helpers.js";

const u8 = (...b: number[]): Uint8Array => new Uint8Array(b);

function sameAsBufbuild(desc: DescMessage, bytes: Uint8Array): void {
  assertSameMessage(desc, getCodec(desc).decode(bytes), fromBinary(desc, bytes));
}
function bothThrow(desc: DescMessage, bytes: Uint8Array): void {
  assert.throws(() => fromBinary(desc, bytes));
  assert.throws(() => getCodec(desc).decode(bytes), Error);
}

test("truncated varints and lengths throw", () => {
  bothThrow(AllTypesSchema, u8(0x28)); // f_int32, no value
  bothThrow(AllTypesSchema, u8(0x28, 0x80)); // f_int32, unterminated varint
  bothThrow(AllTypesSchema, u8(0x18, 0xff, 0xff)); // f_int64 truncated
  bothThrow(AllTypesSchema, u8(0x4a, 0x05, 0x61)); // f_string: length 5, 1 byte
  bothThrow(AllTypesSchema, u8(0x52, 0xff, 0xff, 0xff, 0xff, 0x0f)); // f_bytes: 4 GiB length
  bothThrow(AllTypesSchema, u8(0x09, 1, 2, 3)); // f_double, 3 of 8 bytes
  bothThrow(AllTypesSchema, u8(0x80)); // truncated tag
  bothThrow(AllTypesSchema, u8(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)); // 11-byte varint
  bothThrow(AllTypesSchema, u8(0x00)); // field number 0
  bothThrow(AllTypesSchema, u8(0x0e)); // wire type 6
});

test("wrong wire type for a known field throws (fromBinary would misread it)", () => {
  const dec = getCodec(AllTypesSchema);
  assert.throws(() => dec.decode(u8(0x2a, 0x01, 0x01)), /wrong wire type/); // f_int32 as LEN
  assert.throws(() => dec.decode(u8(0x4d, 1, 2, 3, 4)), /wrong wire type/); // f_string as I32
  assert.throws(() => dec.decode(u8(0x8b, 0x01, 0x8c, 0x01)), /wrong wire type/); // f_nested as group
});

test("length past the end of an enclosing message throws", () => {
  // f_nested (len 2) containing b: string of length 3 — bytes exist in the buffer but beyond the submessage.
  assert.throws(() => getCodec(AllTypesSchema).decode(u8(0x8a, 0x01, 0x02, 0x12, 0x03, 0x61, 0x62, 0x63)), /length past end/);
});

test("groups: unknown groups are preserved like fromBinary; stray end-group throws", () => {
  // unknown field 900 as a group containing a varint field 1, then end group.
  const tag = (no: number, wt: number): number[] => {
    const out: number[] = [];
    let v = ((no << 3) | wt) >>> 0;
    while (v > 127) {
      out.push((v & 127) | 128);
      v >>>= 7;
    }
    out.push(v);
    return out;
  };
  const bytes = u8(...tag(900, 3), ...tag(1, 0), 5, ...tag(900, 4), 0x28, 0x07);
  sameAsBufbuild(AllTypesSchema, bytes);
  const m = getCodec(AllTypesSchema).decode(bytes);
  assert.equal(hex(getCodec(AllTypesSchema).encode(m)), hex(toBinary(AllTypesSchema, m)));
  bothThrow(AllTypesSchema, u8(...tag(900, 4)));
  bothThrow(AllTypesSchema, u8(...tag(900, 3), ...tag(901, 4))); // mismatched end group
  bothThrow(AllTypesSchema, u8(...tag(900, 3), ...tag(1, 0), 5)); // unterminated group
});

test("invalid UTF-8: proto3 strings throw, proto2 strings get U+FFFD like fromBinary", () => {
  bothThrow(AllTypesSchema, u8(0x4a, 0x02, 0xc3, 0x28));
  bothThrow(AllTypesSchema, u8(0x4a, 0x03, 0xed, 0xa0, 0x80)); // encoded surrogate
  const long = new Uint8Array(200).fill(0x61);
  long[150] = 0xff;
  bothThrow(AllTypesSchema, u8(0x4a, 0xc8, 0x01, ...long));
  const p2 = (payload: number[]): Uint8Array => u8(0x70, 0x01, 0x7a, 0x00, 0x12, payload.length, ...payload);
  sameAsBufbuild(AllTypesProto2Schema, p2([0x61, 0xff, 0x62]));
  sameAsBufbuild(AllTypesProto2Schema, p2([0xf0, 0x9f, 0x98])); // truncated 4-byte sequence
  sameAsBufbuild(AllTypesProto2Schema, p2([0xef, 0xbb, 0xbf, 0x61])); // BOM is kept
  const m = getCodec(AllTypesProto2Schema).decode(p2([0x61, 0xff]));
  assert.equal(m.fString, "a\uFFFD");
});

test("lone surrogates encode as U+FFFD like toBinary", () => {
  for (const s of ["\ud800", "a\udc00b", "\ud83d\ude00\ud83d", "x".repeat(50) + "\ud800" + "y".repeat(30), "\udfff".repeat(100)]) {
    assert.equal(hex(getCodec(AllTypesSchema).encode({ fString: s })), hex(toBinary(AllTypesSchema, create(AllTypesSchema, { fString: s }))));
  }
});

test("recursion limit matches fromBinary (100 levels)", () => {
  const nest = (depth: number): Uint8Array => {
    let inner = new Uint8Array(0);
    for (let i = 1; i < depth; i++) inner = toBinary(NestedSchema, create(NestedSchema, { child: fromBinary(NestedSchema, inner) }));
    return inner;
  };
  sameAsBufbuild(NestedSchema, nest(100));
  bothThrow(NestedSchema, nest(101));
});

test("last one wins for scalars, submessages merge, repeated appends, packed and unpacked accepted", () => {
  const a = toBinary(AllTypesSchema, create(AllTypesSchema, { fInt32: 1, fNested: { a: 1 }, rNested: [{ a: 1 }], rInt32: [1, 2], rInt32Unpacked: [3] }));
  const b = toBinary(AllTypesSchema, create(AllTypesSchema, { fInt32: 2, fNested: { b: "x" }, rNested: [{ a: 2 }], oInt32: 0 }));
  // unpacked encoding of the packed field and packed encoding of the unpacked one
  const c = u8(0x98, 0x02, 0x05, 0x82, 0x03, 0x02, 0x07, 0x08);
  const bytes = new Uint8Array([...a, ...b, ...c]);
  sameAsBufbuild(AllTypesSchema, bytes);
  const m = getCodec(AllTypesSchema).decode(bytes);
  assert.equal(m.fInt32, 2);
  assert.deepEqual([m.fNested?.a, m.fNested?.b], [1, "x"]);
  assert.deepEqual(m.rInt32, [1, 2, 5]);
  assert.deepEqual(m.rInt32Unpacked, [3, 7, 8]);
  assert.equal(m.oInt32, 0);
});

test("maps: duplicate keys, missing key/value, unknown entry fields", () => {
  // m_string_nested (65): entry with only a value; entry with key only; entry with an extra field 3.
  const e1 = [0x12, 0x02, 0x08, 0x05];
  const e2 = [0x0a, 0x01, 0x6b];
  const e3 = [0x0a, 0x01, 0x6b, 0x18, 0x01, 0x12, 0x02, 0x08, 0x09];
  const f = (e: number[]): number[] => [0x8a, 0x04, e.length, ...e];
  sameAsBufbuild(AllTypesSchema, u8(...f(e1), ...f(e2), ...f(e3)));
  sameAsBufbuild(AllTypesSchema, u8(0xea, 0x03, 0x05, 0x08, 0x96, 0x01, 0x10, 0x01, 0xea, 0x03, 0x02, 0x08, 0x01)); // int32 map
  // A value running past the entry: fromBinary reads on into the next bytes, we reject it.
  assert.throws(() => getCodec(AllTypesSchema).decode(u8(0xea, 0x03, 0x04, 0x08, 0x96, 0x01, 0x10, 0x01)), /overrun|premature/);
});

test("closed enums: unknown values go to $unknown (proto2), and re-encode identically", () => {
  const bytes = u8(0x70, 0x01, 0x7a, 0x00, 0x60, 0x07, 0x60, 0x02, 0xa8, 0x06, 0x01, 0xf0, 0x01, 0x09, 0x98, 0x01, 0x09);
  sameAsBufbuild(AllTypesProto2Schema, bytes);
  const m = getCodec(AllTypesProto2Schema).decode(bytes);
  assert.equal(hex(getCodec(AllTypesProto2Schema).encode(m)), hex(toBinary(AllTypesProto2Schema, m)));
});

test("proto2: defaults via prototype, required fields, extensions", () => {
  const codec = getCodec(AllTypesProto2Schema);
  const m = codec.decode(toBinary(AllTypesProto2Schema, create(AllTypesProto2Schema, { rId: 1, rName: "n" })));
  assert.equal(m.fInt32, 42);
  assert.equal(m.fString, "héllo");
  assert.equal(Object.prototype.hasOwnProperty.call(m, "fInt32"), false);
  assert.throws(() => codec.encode({ rName: "x" }), /required/);
  assert.throws(() => toBinary(AllTypesProto2Schema, create(AllTypesProto2Schema, { rName: "x" })));
  const withExt = create(AllTypesProto2Schema, { rId: 1, rName: "n" });
  setExtension(withExt, ext_int32, 77);
  const bytes = toBinary(AllTypesProto2Schema, withExt);
  assert.equal(hex(codec.encode(withExt)), hex(bytes));
  sameAsBufbuild(AllTypesProto2Schema, bytes);
  // A message with explicitly set default values writes them.
  assert.equal(hex(codec.encode({ rId: 0, rName: "", fInt32: 42 })), hex(toBinary(AllTypesProto2Schema, create(AllTypesProto2Schema, { rId: 0, rName: "", fInt32: 42 }))));
});

test("fallback types (groups) behave exactly like toBinary/fromBinary", () => {
  const init = { a: 1, g: { x: 5 }, inner: { rId: 3, rName: "r" } };
  const bytes = toBinary(WithGroupSchema, create(WithGroupSchema, init));
  assert.equal(hex(getCodec(WithGroupSchema).encode(init)), hex(bytes));
  sameAsBufbuild(WithGroupSchema, bytes);
});

test("64-bit fields accept bigint, number and string; jstype=JS_STRING fields are strings", () => {
  for (const v of [0, 5, -7, "123", "-9223372036854775808", 2n ** 63n - 1n, -1n, 4294967296]) {
    const init = { fInt64: v, fSint64: v, fSfixed64: v, rInt64: [v, v] } as never;
    assert.equal(hex(getCodec(AllTypesSchema).encode(init)), hex(toBinary(AllTypesSchema, create(AllTypesSchema, init))));
  }
  for (const v of [0, 5, "18446744073709551615", 2n ** 64n - 1n]) {
    const init = { fUint64: v, fFixed64: v } as never;
    assert.equal(hex(getCodec(AllTypesSchema).encode(init)), hex(toBinary(AllTypesSchema, create(AllTypesSchema, init))));
  }
  const m = getCodec(AllTypesSchema).decode(toBinary(AllTypesSchema, create(AllTypesSchema, { fInt64Str: "-5", rInt64Str: ["1", "-2"] })));
  assert.equal(m.fInt64Str, "-5");
  assert.deepEqual(m.rInt64Str, ["1", "-2"]);
  assert.throws(() => getCodec(AllTypesSchema).encode({ fInt32: 1.5 }));
  assert.throws(() => getCodec(AllTypesSchema).encode({ fUint64: -1n } as never));
});

test("large payloads: length prefixes widen and the writer grows mid-message", () => {
  const big = "界".repeat(30000);
  const init = { fString: big, fNested: { b: big, children: [{ b: "x".repeat(200) }] }, mStringNested: { k: { b: "y".repeat(20000) } }, rInt32: Array.from({ length: 5000 }, (_, i) => i * 1000) };
  const expected = toBinary(AllTypesSchema, create(AllTypesSchema, init));
  const w = new Writer(128);
  w.pos = w.start = 100;
  getCodec(AllTypesSchema).encodeInto(init, w);
  assert.equal(hex(w.take()), hex(expected));
  sameAsBufbuild(AllTypesSchema, expected);
});

test("decode(buf, start, end) reads only that range and validates it", () => {
  const bytes = toBinary(AllTypesSchema, create(AllTypesSchema, { fInt32: 9, fString: "s" }));
  const framed = new Uint8Array([1, 2, 3, ...bytes, 4, 5]);
  assertSameMessage(AllTypesSchema, getCodec(AllTypesSchema).decode(framed, 3, 3 + bytes.length), fromBinary(AllTypesSchema, bytes));
  assert.throws(() => getCodec(AllTypesSchema).decode(framed, 3, 100), RangeError);
  assert.throws(() => getCodec(AllTypesSchema).decode(framed, 2, 1), RangeError);
});

test("dynamic descriptors work, are cached per descriptor, and hostile strings cannot inject code", () => {
  const evil = `x"]; globalThis.pwned = 1; //\u2028'\\`;
  const file = create(FileDescriptorProtoSchema, {
    name: "dyn.proto",
    package: "dyn",
    syntax: "proto2",
    messageType: [
      {
        name: "Dyn",
        field: [
          { name: "s", number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: evil, defaultValue: evil },
          { name: "n", number: 2, type: FieldDescriptorProto_Type.INT32, label: FieldDescriptorProto_Label.REPEATED, jsonName: "n" },
        ],
      },
    ],
  });
  const desc = createFileRegistry(file, () => undefined).getMessage("dyn.Dyn");
  assert.ok(desc);
  const init = { s: "hello", n: [1, 2, 3] };
  const bytes = toBinary(desc, create(desc, init));
  assert.equal(hex(getCodec(desc).encode(init)), hex(bytes));
  assertSameMessage(desc, getCodec(desc).decode(bytes), fromBinary(desc, bytes));
  assert.equal((getCodec(desc).decode(new Uint8Array(0)) as Record<string, unknown>).s, evil);
  assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
  assert.equal(getCodec(desc), getCodec(desc));
  // Names are validated by the registry; if it ever accepts one, the codec must still be safe.
  const evilFile = create(FileDescriptorProtoSchema, { syntax: "proto3", name: "evil.proto", package: "evil", messageType: [{ name: "E", field: [{ name: evil, number: 1, type: FieldDescriptorProto_Type.INT32, label: FieldDescriptorProto_Label.OPTIONAL }] }] });
  let evilDesc: DescMessage | undefined;
  try {
    evilDesc = createFileRegistry(evilFile, () => undefined).getMessage("evil.E");
  } catch {
    evilDesc = undefined;
  }
  if (evilDesc !== undefined) {
    getCodec(evilDesc).decode(getCodec(evilDesc).encode({}));
    assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
  }
  assert.ok(file_goms_test_v1_all_types_proto2);
});
