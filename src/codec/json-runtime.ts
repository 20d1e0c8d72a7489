import { protoInt64 } from "@bufbuild/protobuf";
import { base64Decode, base64Encode, getTextEncoding } from "@bufbuild/protobuf/wire";
import { setOwn } from "./runtime.js";

/**
 * The helper object handed to generated JSON writers/readers as `h`.
 *
 * The readers never report errors themselves: on anything unusual (wrong
 * type, out of range, unknown key, a shape they do not specialise) they call
 * `bail()`, and the caller re-runs the whole input through @bufbuild's
 * fromJsonString, which either throws its own precise error or returns the
 * message. So a reader only has to be exact on the inputs it accepts.
 * Writers do the same with toJsonString when they meet a value of the wrong
 * type.
 */

/** Thrown by generated code to abandon the fast path; never escapes the codec. */
export const BAIL: unique symbol = Symbol("json fast path bailed out");

function bail(): never {
  throw BAIL;
}

/**
 * What the readers saw in the current decode, for noDuplicateKeys(): the
 * number of object keys, and of colons inside the strings they accepted.
 */
const state = { keys: 0, colons: 0 };

/** Colons in `s`. */
function colonsIn(s: string): number {
  let n = 0;
  for (let i = s.indexOf(":"); i !== -1; i = s.indexOf(":", i + 1)) n++;
  return n;
}

/**
 * Whether JSON text that JSON.parse accepted has no duplicate object member
 * names, given the keys and string colons of the parsed tree in `state`.
 *
 * JSON.parse keeps only the last of duplicate names, so the text has more
 * members than the parsed objects have keys exactly when a name is
 * duplicated. Text without backslashes has no escapes, so each parsed
 * string equals its token: then the colons of the text are one per member
 * plus those inside strings, and `colons(text) - state.colons` is at least
 * the member count, equal to the key count only without duplicates (a
 * string the readers did not count can only make it fail, never pass).
 * With escapes (rare), the text is scanned token by token.
 */
function noDuplicateKeys(text: string): boolean {
  if (text.indexOf("\\") === -1) return colonsIn(text) - state.colons === state.keys;
  return countKeys(text) === state.keys;
}

/**
 * The number of object member names in JSON text that JSON.parse accepted:
 * the colons outside strings. JSON.parse keeps only the last of duplicate
 * names, so the parsed objects have fewer keys in total than this count
 * exactly when the text has a duplicate name somewhere.
 */
function countKeys(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) n++;
    else if (c === 34) {
      // Skip the string: backslash escapes one character, the text is valid JSON.
      for (i++; i < len; i++) {
        const d = s.charCodeAt(i);
        if (d === 34) break;
        if (d === 92) i++;
      }
    }
  }
  return n;
}

/** Adds the keys of every object inside a parsed JSON value (for values handed to @bufbuild). */
function countValue(v: unknown): void {
  if (typeof v === "string") state.colons += colonsIn(v);
  if (v === null || typeof v !== "object") return;
  if (Array.isArray(v)) {
    for (const x of v) countValue(x);
    return;
  }
  const ks = Object.keys(v);
  state.keys += ks.length;
  for (const k of ks) {
    state.colons += colonsIn(k);
    countValue((v as Record<string, unknown>)[k]);
  }
}

/** int32FromJson + the int32 range check of @bufbuild's reader. */
function int32(v: unknown): number {
  const n = numberish(v);
  if (!Number.isInteger(n) || n > 0x7fffffff || n < -0x80000000) bail();
  return n;
}

function uint32(v: unknown): number {
  const n = numberish(v);
  if (!Number.isInteger(n) || n > 0xffffffff || n < 0) bail();
  return n;
}

/** A number, or a decimal string without surrounding whitespace (as int32FromJson accepts). */
function numberish(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string" || v === "" || v.trim().length !== v.length) bail();
  const n = Number(v);
  if (Number.isNaN(n)) bail();
  return n;
}

function double(v: unknown): number {
  if (typeof v === "number") {
    // JSON.parse turns 1e999 into Infinity; only the strings "Infinity" etc. are allowed.
    if (!Number.isFinite(v)) bail();
    return v;
  }
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (typeof v !== "string" || v === "" || v.trim().length !== v.length) bail();
  const n = Number(v);
  if (!Number.isFinite(n)) bail();
  return n;
}

function float(v: unknown): number {
  const n = double(v);
  if (!Number.isFinite(Math.fround(n)) && Number.isFinite(n)) bail();
  return n;
}

const textEncoding = getTextEncoding();
const checkUtf8 = (s: string): boolean => textEncoding.checkUtf8(s);

/** A string value or map key; its colons count for noDuplicateKeys(). */
function string(v: unknown): string {
  if (typeof v !== "string" || !checkUtf8(v)) bail();
  if (v.indexOf(":") !== -1) state.colons += colonsIn(v);
  return v;
}

function bytes(v: unknown): Uint8Array {
  if (typeof v !== "string") bail();
  if (v === "") return new Uint8Array(0);
  try {
    return base64Decode(v);
  } catch {
    bail();
  }
}

function int64Value(v: unknown, unsigned: boolean): bigint | string {
  if (!(typeof v === "number" || (typeof v === "string" && v.length > 0))) bail();
  try {
    return unsigned ? protoInt64.uParse(v) : protoInt64.parse(v);
  } catch {
    bail();
  }
}

/** int64/sint64/sfixed64: the field's local value (bigint, or string with jstype = JS_STRING). */
function int64(v: unknown, asString: boolean): bigint | string {
  const x = int64Value(v, false);
  return asString ? String(v) : x;
}

function uint64(v: unknown, asString: boolean): bigint | string {
  const x = int64Value(v, true);
  return asString ? String(v) : x;
}

/** Canonical form of a 64-bit map key ("01" and "1" are the same key), checked. */
function key64(k: string, unsigned: boolean): string {
  const c = /^-?0+$/.test(k) ? "0" : k.replace(/^(-?)0+(?=\d)/, "$1");
  int64Value(c, unsigned);
  return c;
}

/** Enum number of a JSON value: a name from `names`, or an integer accepted by `open`/`known`. */
function enumValue(v: unknown, names: Map<string, number>, open: boolean, known: Set<number>): number {
  if (typeof v === "string") {
    const n = names.get(v);
    if (n === undefined) bail();
    return n;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) bail();
  if (open ? v > 0x7fffffff || v < -0x80000000 : !known.has(v)) bail();
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Writer side: a JSON number as JSON.stringify prints it (non-finite numbers become null). */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : "null";
}

/** float/double: special values as strings. */
function dbl(x: unknown): string {
  if (typeof x !== "number") bail();
  if (Number.isFinite(x)) return String(x);
  return x !== x ? '"NaN"' : x > 0 ? '"Infinity"' : '"-Infinity"';
}

/** 64-bit integers: decimal strings. */
function i64(x: unknown): string {
  if (typeof x === "bigint") return `"${x.toString()}"`;
  if (typeof x === "string" || (typeof x === "number" && Number.isInteger(x))) return JSON.stringify(x.toString());
  bail();
}

function b64(x: unknown): string {
  if (!(x instanceof Uint8Array)) bail();
  return `"${base64Encode(x)}"`;
}

export const JH = {
  bail,
  state,
  noDuplicateKeys,
  countValue,
  int32,
  uint32,
  double,
  float,
  string,
  bytes,
  int64,
  uint64,
  key64,
  enumValue,
  isObject,
  setOwn,
  num,
  dbl,
  i64,
  b64,
  str: JSON.stringify,
  own: Object.prototype.hasOwnProperty,
};
