// Property tests: the proto3 JSON codec equals @bufbuild's toJsonString/fromJsonString.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import { ScalarType, create, createRegistry, fromJsonString, setExtension, toJsonString } from "@bufbuild/protobuf";
import { getJsonCodec } from "../../src/codec/index.js";
import { decodeJsonFast, encodeJsonFast } from "../../src/codec/json-codec.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { AllTypesSchema, NestedSchema } from "../gen/goms/test/v1/all_types_pb.js";
import {
  AllTypesProto2Schema,
  HasGroupChildSchema,
  Proto2ChildSchema,
  WithGroupSchema,
  ext_int32,
  file_goms_test_v1_all_types_proto2,
} from "../gen/goms/test/v1/all_types_proto2_pb.js";
import { BenchmarkMessageSchema } from "../../bench/gen/goms/bench/v1/bench_pb.js";
import { messageArb } from "./arbitrary.js";
import { assertSameMessage } from "./helpers.js";

const RUNS = Number(process.env.CODEC_RUNS ?? 200);
const registry = createRegistry(file_goms_test_v1_all_types_proto2);
const DESCS: DescMessage[] = [AllTypesSchema, NestedSchema, AllTypesProto2Schema, Proto2ChildSchema, WithGroupSchema, HasGroupChildSchema, BenchmarkMessageSchema];

/** A message from an arbitrary init shape, sometimes with an extension set (proto2). */
function messageOf(desc: DescMessage, init: Record<string, unknown>, ext: number | undefined) {
  const msg = create(desc, init as never);
  if (ext !== undefined && desc === AllTypesProto2Schema) setExtension(msg as never, ext_int32, ext);
  return msg;
}

/** fromJson and fromJsonString agree: same message, or both throw (ours a GomsError InvalidArgument). */
function sameDecode(desc: DescMessage, text: string): "ok" | "rejected" {
  let ref: unknown;
  let refErr: unknown;
  try {
    ref = fromJsonString(desc, text, { registry, ignoreUnknownFields: false });
  } catch (e) {
    refErr = e;
  }
  const codec = getJsonCodec(desc, registry);
  if (refErr !== undefined) {
    assert.throws(
      () => codec.fromJson(text),
      (e: unknown) => e instanceof GomsError && e.code === Code.InvalidArgument && e.message.endsWith(`invalid ${desc.typeName} JSON: ${(refErr as Error).message}`),
    );
    return "rejected";
  }
  assertSameMessage(desc, codec.fromJson(text), ref);
  return "ok";
}

/** A tiny deterministic PRNG, so that one fast-check integer drives all the choices of a variant. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * Rewrites bufbuild's JSON into other spellings proto3 JSON allows: proto
 * field names, numbers as strings, 64-bit integers as numbers, enums as
 * numbers, explicit nulls for absent fields.
 */
function variant(desc: DescMessage, json: JsonValue, rnd: () => number): JsonValue {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, JsonValue> = {};
  for (const f of desc.fields) {
    const v = json[f.jsonName];
    const key = rnd() < 0.5 ? f.name : f.jsonName;
    if (v === undefined) {
      // null means "unset", except that a null message or enum still counts as setting its oneof.
      if ((f.oneof === undefined || f.fieldKind === "scalar") && rnd() < 0.2) out[key] = null;
      continue;
    }
    out[key] = f.fieldKind === "list" && Array.isArray(v) ? v.map((x) => valueVariant(f, x, rnd)) : f.fieldKind === "map" ? mapVariant(f, v, rnd) : valueVariant(f, v, rnd);
  }
  for (const k of Object.keys(json)) if (k.startsWith("[")) out[k] = json[k] ?? null;
  return out;
}

function mapVariant(f: DescField, v: JsonValue, rnd: () => number): JsonValue {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: valueVariant(f, v[k] ?? null, rnd), enumerable: true, writable: true, configurable: true });
  return out;
}

function valueVariant(f: DescField, v: JsonValue, rnd: () => number): JsonValue {
  if (f.message !== undefined) return variant(f.message, v, rnd);
  if (f.enum !== undefined) {
    const num = f.enum.values.find((e) => e.name === v)?.number;
    return num !== undefined && rnd() < 0.5 ? num : v;
  }
  if (f.scalar === ScalarType.STRING || f.scalar === ScalarType.BYTES) return v;
  if (typeof v === "number" && rnd() < 0.5) return String(v);
  if (typeof v === "string" && Number.isSafeInteger(Number(v)) && rnd() < 0.5) return Number(v);
  return v;
}

const WRONG: JsonValue[] = [true, "x", "", " 1", 1.5, -1, 2 ** 32, 2 ** 70, "1e2", {}, [], [null], null, "NaN", "-Infinity", 1e39, "AAA", "COLOR_RED", "__proto__", { a: 1 }];

/** Replaces one value somewhere in the JSON tree (at an object key or array index) with `value`. */
function replaceOne(json: JsonValue, rnd: () => number, value: JsonValue): JsonValue {
  if (json === null || typeof json !== "object") return value;
  const keys = Array.isArray(json) ? json.map((_, i) => i) : Object.keys(json);
  if (keys.length === 0 || rnd() < 0.15) return value;
  const k = keys[Math.floor(rnd() * keys.length)] as string | number;
  const copy: JsonValue = Array.isArray(json) ? json.slice() : { ...json };
  const child = (copy as Record<string | number, JsonValue>)[k] ?? null;
  (copy as Record<string | number, JsonValue>)[k] = replaceOne(child, rnd, value);
  return copy;
}

/** Text-level damage: truncation, a duplicated or unknown key, a stray character. */
function damage(text: string, rnd: () => number, kind: number): string {
  const at = Math.floor(rnd() * (text.length + 1));
  switch (kind) {
    case 0:
      return text.slice(0, at);
    case 1: {
      const m = /"([^"\\]+)":([^,{}[\]]+)[,}]/.exec(text);
      return m === null ? text : text.replace("{", `{"${m[1] ?? ""}":${m[2] ?? ""},`);
    }
    case 2:
      return text.replace("{", `{"noSuchField":1${text === "{}" ? "" : ","}`);
    default:
      return text.slice(0, at) + "{}[],:\"0-e"[Math.floor(rnd() * 11)] + text.slice(at);
  }
}

for (const desc of DESCS) {
  const arb = fc.tuple(messageArb(desc, { maxDepth: 3 }), fc.option(fc.integer({ min: -5, max: 5 })));

  test(`${desc.typeName}: toJson is byte-identical to toJsonString`, () => {
    let fast = 0;
    fc.assert(
      fc.property(arb, ([init, ext]) => {
        const msg = messageOf(desc, init, ext ?? undefined);
        const expected = toJsonString(desc, msg, { registry, alwaysEmitImplicit: false });
        assert.equal(getJsonCodec(desc, registry).toJson(msg), expected);
        const own = encodeJsonFast(desc, registry, msg);
        if (own !== undefined) {
          assert.equal(own, expected);
          fast++;
        }
      }),
      { numRuns: RUNS },
    );
    assert.equal(fast, RUNS, "every message should be written by the generated code");
  });

  test(`${desc.typeName}: fromJson equals fromJsonString on bufbuild's JSON and its variants`, () => {
    fc.assert(
      fc.property(arb, fc.integer(), fc.boolean(), ([init, ext], seed, spaced) => {
        const msg = messageOf(desc, init, ext ?? undefined);
        const text = toJsonString(desc, msg, { registry, prettySpaces: spaced ? 2 : 0 });
        assert.equal(sameDecode(desc, text), "ok");
        const alt = JSON.stringify(variant(desc, JSON.parse(text) as JsonValue, prng(seed)));
        assert.equal(sameDecode(desc, alt), "ok");
        // Only extensions are left to @bufbuild; everything else takes the generated path.
        if (ext === null) {
          assert.ok(decodeJsonFast(desc, registry, text) !== undefined, `fast path bailed on ${text}`);
          assert.ok(decodeJsonFast(desc, registry, alt) !== undefined, `fast path bailed on ${alt}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test(`${desc.typeName}: wrong types, damaged text and unknown keys are rejected like fromJsonString`, () => {
    const stats = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(arb, fc.integer(), fc.constantFrom(...WRONG), fc.integer({ min: 0, max: 4 }), ([init], seed, wrong, kind) => {
        const rnd = prng(seed);
        const text = toJsonString(desc, create(desc, init as never), { registry });
        const bad = kind === 4 ? JSON.stringify(replaceOne(JSON.parse(text) as JsonValue, rnd, wrong)) : damage(text, rnd, kind);
        stats[sameDecode(desc, bad)]++;
      }),
      { numRuns: RUNS * 3 },
    );
    assert.ok(stats.ok > 0 && stats.rejected > 0, JSON.stringify(stats));
  });
}

test("lone surrogates: written escaped, rejected on read, like @bufbuild", () => {
  fc.assert(
    fc.property(messageArb(NestedSchema, { loneSurrogates: true }), (init) => {
      const msg = create(NestedSchema, init as never);
      const text = toJsonString(NestedSchema, msg);
      assert.equal(getJsonCodec(NestedSchema).toJson(msg), text);
      sameDecode(NestedSchema, text);
    }),
    { numRuns: RUNS },
  );
});

test("edge cases decode like fromJsonString", () => {
  const cases: [DescMessage, string, "ok" | "rejected"][] = [
    [AllTypesSchema, `{"fInt32":1,"f_int32":2}`, "rejected"], // one field under both names
    [AllTypesSchema, `{"fInt32":1,"fInt32":1}`, "rejected"], // duplicate key
    [AllTypesSchema, `{"fNested":{"a":1,"a":1}}`, "rejected"], // duplicate key, nested
    [AllTypesSchema, `{"fString":"a:b","fString":"c"}`, "rejected"], // colons in strings do not hide duplicates
    [AllTypesSchema, `{"fString":"a:b:c","mStringString":{"k:":":v"},"rString":["::"]}`, "ok"],
    [AllTypesSchema, `{"fInt32":1,"fString":"\\u003a","fInt32":2}`, "rejected"], // escaped colon
    [AllTypesSchema, `{"fString":"q\\"uote:\\\\","fMid":"\\u003a"}`, "ok"],
    [AllTypesSchema, `{"mInt32Int32":{"1":1,"01":2}}`, "rejected"], // one map key, two spellings
    [AllTypesSchema, `{"mInt64String":{"1":"a","01":"b"}}`, "rejected"],
    [AllTypesSchema, `{"mInt64String":{"-0":"a","007":"b"}}`, "ok"],
    [AllTypesSchema, `{"mStringString":{"__proto__":"x"},"mBoolEnum":{"true":"COLOR_RED","false":-5}}`, "ok"],
    [AllTypesSchema, `{"mBoolEnum":{"yes":1}}`, "rejected"],
    [AllTypesSchema, `{"cInt32":null,"cString":"x"}`, "ok"], // a null scalar does not set the oneof
    [AllTypesSchema, `{"cEnum":null,"cString":"x"}`, "rejected"], // a null enum does
    [AllTypesSchema, `{"cNested":null,"c_string":"x"}`, "rejected"],
    [AllTypesSchema, `{"cInt32":1,"cString":"x"}`, "rejected"],
    [AllTypesSchema, `{"fEnum":"COLOR_NEGATIVE","oEnum":7,"rEnum":[1,"COLOR_GREEN",99]}`, "ok"], // open enum: unknown numbers kept
    [AllTypesSchema, `{"fEnum":"COLOR_PURPLE"}`, "rejected"],
    [AllTypesSchema, `{"fInt32":"12","fUint32":"4294967295","fInt64":12,"fUint64":"0x10","fDouble":"1e3","fFloat":"-Infinity"}`, "ok"],
    [AllTypesSchema, `{"fInt32":1.0,"fSint32":-0,"fFixed32":"1e1","fDouble":-0}`, "ok"],
    [AllTypesSchema, `{"fInt32":" 1"}`, "rejected"],
    [AllTypesSchema, `{"fFloat":1e39}`, "rejected"],
    [AllTypesSchema, `{"fDouble":-1e309}`, "rejected"], // JSON.parse gives -Infinity
    [AllTypesSchema, `{"rFloat":[1e400]}`, "rejected"],
    [AllTypesSchema, `{"fBytes":"-_8"}`, "ok"], // URL-safe base64 without padding
    [AllTypesSchema, `{"rInt32":[1,null]}`, "rejected"],
    [AllTypesSchema, `{"rInt32":null,"mStringString":null,"fNested":null,"fString":null}`, "ok"],
    [AllTypesProto2Schema, `{"fLevel":5}`, "rejected"], // closed enum: unknown numbers rejected
    [AllTypesProto2Schema, `{"[goms.test.v1.ext_int32]":5}`, "ok"], // extension, via the registry
    [AllTypesProto2Schema, `{"fInt32":null,"f_string":null}`, "ok"],
    [AllTypesSchema, "[]", "rejected"],
    [AllTypesSchema, "null", "rejected"],
    [AllTypesSchema, `{"fNested":${'{"child":'.repeat(120)}{}${"}".repeat(120)}}`, "rejected"], // recursion limit
    [AllTypesSchema, `{"fNested":${'{"child":'.repeat(97)}{}${"}".repeat(97)}}`, "ok"],
  ];
  for (const [desc, text, expected] of cases) {
    assert.equal(sameDecode(desc, text), expected, text);
    // Only extensions are left to @bufbuild among valid inputs.
    if (expected === "ok" && !text.includes("[goms")) assert.ok(decodeJsonFast(desc, registry, text) !== undefined, `fast path bailed on ${text}`);
  }
});

test("messages that do not match their descriptor are rejected with Code.Internal", () => {
  const codec = getJsonCodec(AllTypesSchema);
  const wrongType = create(NestedSchema, { a: 1 });
  assert.throws(() => codec.toJson(wrongType as never), (e: unknown) => e instanceof GomsError && e.code === Code.Internal);
  const badValue = create(AllTypesSchema, { fInt32: 1 });
  (badValue as unknown as Record<string, unknown>).fInt32 = "1";
  assert.throws(() => codec.toJson(badValue), (e: unknown) => e instanceof GomsError && e.code === Code.Internal && /f_int32/.test(e.message));
  const missing = create(Proto2ChildSchema, {});
  assert.throws(() => getJsonCodec(Proto2ChildSchema).toJson(missing), (e: unknown) => e instanceof GomsError && /required field not set/.test(e.message));
});
