// fast-check arbitraries for any DescMessage, built by walking desc.fields.
import fc from "fast-check";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

export interface ArbOptions {
  /** Allow lone surrogates in strings (they do not round-trip: encoded as U+FFFD). */
  loneSurrogates?: boolean;
  maxDepth?: number;
}

const cjk = fc.string({ unit: fc.integer({ min: 0x4e00, max: 0x9fff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

function stringArb(o: ArbOptions): fc.Arbitrary<string> {
  const arbs: fc.Arbitrary<string>[] = [
    fc.string({ maxLength: 20 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    cjk,
    fc.string({ unit: "grapheme", minLength: 40, maxLength: 200 }),
    fc.constantFrom("\uFEFFbom", "", "héllo wörld", "😀🎉", "a".repeat(300)),
  ];
  if (o.loneSurrogates) arbs.push(fc.string({ unit: fc.integer({ min: 0xd700, max: 0xe000 }).map((c) => String.fromCharCode(c)), maxLength: 10 }));
  return fc.oneof(...arbs);
}

const INT32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const UINT32 = fc.integer({ min: 0, max: 0xffffffff });
const INT64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -1000n, max: 1000n }));
const UINT64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 1000n }));

export function scalarArb(t: ScalarType, longAsString: boolean, o: ArbOptions): fc.Arbitrary<unknown> {
  const long = (a: fc.Arbitrary<bigint>): fc.Arbitrary<unknown> => (longAsString ? a.map(String) : a);
  switch (t) {
    case ScalarType.DOUBLE:
      return fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, NaN, Infinity));
    case ScalarType.FLOAT:
      return fc.oneof(fc.float(), fc.constantFrom(0, -0, 1.5));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(INT32, fc.integer({ min: -200, max: 200 }));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(UINT32, fc.integer({ min: 0, max: 300 }));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(INT64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(UINT64);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return stringArb(o);
    case ScalarType.BYTES:
      return fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 400 }));
  }
}

function enumArb(f: DescField): fc.Arbitrary<number> {
  const e = f.enum;
  if (e === undefined) throw new Error("no enum");
  const known = fc.constantFrom(...e.values.map((v) => v.number));
  return e.open ? fc.oneof(known, INT32) : known;
}

function mapKeyArb(t: ScalarType, o: ArbOptions): fc.Arbitrary<string> {
  if (t === ScalarType.STRING) return fc.oneof(stringArb({ ...o, loneSurrogates: false }), fc.constant("__proto__"));
  if (t === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return scalarArb(t, false, o).map((v) => String(v));
}

const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/** Arbitrary MessageInitShape-like plain objects for `desc`. */
export function messageArb(desc: DescMessage, o: ArbOptions = {}, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const maxDepth = o.maxDepth ?? 3;
  const key = `${desc.typeName}|${depth}|${o.loneSurrogates ? 1 : 0}|${maxDepth}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const deeper = depth + 1 < maxDepth;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  const child = (d: DescMessage): fc.Arbitrary<unknown> => messageArb(d, o, depth + 1);
  for (const f of desc.fields) {
    if (f.oneof) continue;
    let a: fc.Arbitrary<unknown> | undefined;
    switch (f.fieldKind) {
      case "scalar":
        a = scalarArb(f.scalar, f.longAsString, o);
        break;
      case "enum":
        a = enumArb(f);
        break;
      case "message":
        if (deeper || f.presence === 3) a = child(f.message);
        break;
      case "list":
        if (f.listKind === "message") a = deeper ? fc.array(child(f.message), { maxLength: 3 }) : undefined;
        else if (f.listKind === "enum") a = fc.array(enumArb(f), { maxLength: 6 });
        else a = fc.array(scalarArb(f.scalar, f.longAsString, o), { maxLength: 6 });
        break;
      case "map": {
        let v: fc.Arbitrary<unknown> | undefined;
        if (f.mapKind === "message") v = deeper ? child(f.message) : undefined;
        else if (f.mapKind === "enum") v = enumArb(f);
        else v = scalarArb(f.scalar, false, o);
        if (v !== undefined) {
          a = fc.array(fc.tuple(mapKeyArb(f.mapKey, o), v), { maxLength: 4 }).map((entries) => {
            const rec: Record<string, unknown> = {};
            for (const [k, val] of entries) Object.defineProperty(rec, k, { value: val, enumerable: true, writable: true, configurable: true });
            return rec;
          });
        }
        break;
      }
    }
    if (a === undefined) continue;
    parts[f.localName] = a;
    if (f.presence === 3) required.push(f.localName);
  }
  for (const oneof of desc.oneofs) {
    const cases: fc.Arbitrary<unknown>[] = [];
    for (const f of oneof.fields) {
      let a: fc.Arbitrary<unknown> | undefined;
      if (f.fieldKind === "scalar") a = scalarArb(f.scalar, f.longAsString, o);
      else if (f.fieldKind === "enum") a = enumArb(f);
      else if (f.fieldKind === "message" && deeper) a = child(f.message);
      if (a !== undefined) cases.push(a.map((value) => ({ case: f.localName, value })));
    }
    cases.push(fc.constant({ case: undefined }));
    parts[oneof.localName] = fc.oneof(...cases);
  }
  const arb = fc.record(parts, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>;
  cache.set(key, arb);
  return arb;
}
