// Well-known types in the JSON codec: they are left to @bufbuild, and their parents must still agree exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import { create, createFileRegistry, createRegistry, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import type { DescFile } from "@bufbuild/protobuf";
import * as wkt from "@bufbuild/protobuf/wkt";
import {
  AnySchema,
  DurationSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FieldMaskSchema,
  StructSchema,
  TimestampSchema,
  anyPack,
} from "@bufbuild/protobuf/wkt";
import { getJsonCodec } from "../../src/codec/index.js";
import { decodeJsonFast } from "../../src/codec/json-codec.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { NestedSchema, file_goms_test_v1_all_types } from "../gen/goms/test/v1/all_types_pb.js";
import { assertSameMessage } from "./helpers.js";

/** Every google/protobuf/*.proto file @bufbuild ships. */
const WKT_FILES = Object.entries(wkt)
  .filter(([name]) => name.startsWith("file_google_protobuf_"))
  .map(([, file]) => file as DescFile);

const { OPTIONAL: OPT, REPEATED: REP } = FieldDescriptorProto_Label;
const MSG = FieldDescriptorProto_Type.MESSAGE;
const wktField = (name: string, number: number, type: string, label = OPT) => ({ name, number, type: MSG, typeName: `.google.protobuf.${type}`, label, jsonName: name });

/** A message with a field of every well-known type, next to an ordinary one, built at runtime. */
const file = create(FileDescriptorProtoSchema, {
  name: "wkt_holder.proto",
  package: "wkt",
  syntax: "proto3",
  dependency: WKT_FILES.map((f) => f.proto.name).concat(file_goms_test_v1_all_types.proto.name),
  messageType: [
    {
      name: "Holder",
      field: [
        { name: "id", number: 1, type: FieldDescriptorProto_Type.INT32, label: OPT, jsonName: "id" },
        wktField("ts", 2, "Timestamp"),
        wktField("du", 3, "Duration"),
        wktField("any", 4, "Any"),
        wktField("st", 5, "Struct"),
        wktField("val", 6, "Value"),
        wktField("lv", 7, "ListValue"),
        wktField("i32", 8, "Int32Value"),
        wktField("str", 9, "StringValue"),
        wktField("fm", 10, "FieldMask"),
        wktField("em", 11, "Empty"),
        wktField("tss", 12, "Timestamp", REP),
        { name: "nested", number: 13, type: MSG, typeName: ".goms.test.v1.Nested", label: OPT, jsonName: "nested" },
      ],
    },
    // An ordinary parent of the holder: generated code calling into the @bufbuild part.
    { name: "Outer", field: [{ name: "holder", number: 1, type: MSG, typeName: ".wkt.Holder", label: OPT, jsonName: "holder" }, { name: "n", number: 2, type: FieldDescriptorProto_Type.INT64, label: OPT, jsonName: "n" }] },
  ],
});
const fileRegistry = createFileRegistry(file, (name) => [...WKT_FILES, file_goms_test_v1_all_types].find((f) => f.proto.name === name));
const registry: Registry = createRegistry(...WKT_FILES, file_goms_test_v1_all_types, fileRegistry);
const Holder = fileRegistry.getMessage("wkt.Holder") as DescMessage;
const Outer = fileRegistry.getMessage("wkt.Outer") as DescMessage;

function roundTrip(desc: DescMessage, init: Record<string, unknown>): string {
  const msg = create(desc, init as never);
  const codec = getJsonCodec(desc, registry);
  const text = toJsonString(desc, msg, { registry });
  assert.equal(codec.toJson(msg), text);
  assertSameMessage(desc, codec.fromJson(text), fromJsonString(desc, text, { registry }));
  return text;
}

const ts = create(TimestampSchema, { seconds: 1700000000n, nanos: 5000 });
const du = create(DurationSchema, { seconds: -3n, nanos: -500000000 });

test("Timestamp, Duration, FieldMask, Empty fields", () => {
  const text = roundTrip(Holder, { ts, du, fm: create(FieldMaskSchema, { paths: ["a_b", "c"] }), em: {}, tss: [ts, ts] });
  assert.match(text, /"ts":"2023-11-14T22:13:20.000005Z","du":"-3.500s"/);
  assert.match(text, /"fm":"aB,c","em":\{\}/);
});

test("Any (packed message resolved through the registry)", () => {
  const any = anyPack(NestedSchema, create(NestedSchema, { a: 7, b: "x" }));
  const text = roundTrip(Holder, { any });
  assert.match(text, /"any":\{"a":7,"b":"x","@type":"type.googleapis.com\/goms.test.v1.Nested"\}/);
  roundTrip(Holder, { any: anyPack(TimestampSchema, ts) });
  // An Any whose type is not in the registry cannot be written.
  const orphan = create(Holder, { any: create(AnySchema, { typeUrl: "type.googleapis.com/no.Such", value: new Uint8Array(1) }) } as never);
  assert.throws(() => getJsonCodec(Holder, registry).toJson(orphan), (e: unknown) => e instanceof GomsError && e.code === Code.Internal);
});

test("Struct, Value, ListValue, wrappers", () => {
  const text = roundTrip(Holder, { st: { a: 1, b: [true, null, "s"], c: { d: {} } }, i32: 0, str: "w" });
  assert.match(text, /"st":\{"a":1,"b":\[true,null,"s"\],"c":\{"d":\{\}\}\}/);
  assert.match(text, /"i32":0,"str":"w"/);
  roundTrip(Holder, { val: { kind: { case: "numberValue", value: 2.5 } }, lv: { values: [{ kind: { case: "stringValue", value: "q" } }] } });
  roundTrip(StructSchema, { fields: { x: { kind: { case: "boolValue", value: true } } } });
});

test("a generated parent delegates only the well-known-type part", () => {
  const text = roundTrip(Outer, { holder: { id: 3, ts, nested: { a: 1 } }, n: 5n });
  assert.ok(decodeJsonFast(Outer, registry, text) !== undefined);
  // Duplicate keys inside the delegated part are still rejected.
  const dup = `{"holder":{"st":{"a":1,"a":2}},"n":"5"}`;
  assert.throws(() => fromJsonString(Outer, dup, { registry }));
  assert.equal(decodeJsonFast(Outer, registry, dup), undefined);
  assert.throws(() => getJsonCodec(Outer, registry).fromJson(dup), (e: unknown) => e instanceof GomsError && e.code === Code.InvalidArgument && /invalid wkt.Outer JSON: .*duplicate/.test(e.message));
});

test("invalid well-known-type values are rejected like fromJsonString, naming the type", () => {
  for (const bad of [`{"ts":"yesterday"}`, `{"du":"3"}`, `{"fm":"a_b"}`, `{"any":{"@type":"x/no.Such"}}`, `{"i32":"x"}`, `{"val":{"a":[1,{}]}, "val":1}`]) {
    assert.throws(() => fromJsonString(Holder, bad, { registry }));
    assert.throws(
      () => getJsonCodec(Holder, registry).fromJson(bad),
      (e: unknown) => e instanceof GomsError && e.code === Code.InvalidArgument && e.message.includes("invalid wkt.Holder JSON: cannot decode"),
    );
  }
});
