import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { RECURSION_LIMIT, newMessage } from "./compile-decoder.js";
import { type GenContext, int, q } from "./gen-context.js";

/**
 * Generates `function NAME(j, d, R)` which reads the parsed JSON value `j`
 * (from JSON.parse) at nesting depth `d` (1 for the top-level message) into a
 * new message and returns it: what `fromJson(desc, j, { registry: R })`
 * returns, for every input it accepts.
 *
 * It accepts both the JSON name and the proto name of each field, numbers
 * as strings and 64-bit integers as numbers, enum names and numbers, and
 * `null` (which leaves a field unset). Everything else, including unknown
 * keys, extensions and values of the wrong type, calls `h.bail()`, which
 * hands the text to @bufbuild (see json-runtime.ts). Every object visited adds
 * its key count to `h.state.keys`, for the duplicate-key check.
 */
export function generateJsonDecoder(desc: DescMessage, name: string, ctx: GenContext): string {
  const lines: string[] = [];
  lines.push(`function ${name}(j, d, R) {`);
  lines.push(`if (j === null || typeof j !== "object" || Array.isArray(j) || d > ${int(RECURSION_LIMIT)}) h.bail();`);
  lines.push(`var m; ${newMessage(desc, ctx)}`);
  const seen: string[] = [];
  desc.fields.forEach((f, i) => {
    if (f.jsonName !== f.name) seen.push(`f${int(i)} = 0`);
  });
  desc.oneofs.forEach((_, i) => seen.push(`o${int(i)} = 0`));
  lines.push(`var ks = Object.keys(j), n = ks.length, i, k, v, x, t, a, mks, mk, mv, mi${seen.map((s) => `, ${s}`).join("")};`);
  lines.push(`h.state.keys += n;`);
  lines.push(`for (i = 0; i < n; i++) { k = ks[i]; v = j[k];`);
  lines.push(`switch (k) {`);
  desc.fields.forEach((f, i) => {
    const labels = f.jsonName === f.name ? `case ${q(f.name)}:` : `case ${q(f.jsonName)}: case ${q(f.name)}: if (f${int(i)}) h.bail(); f${int(i)} = 1;`;
    lines.push(`${labels} ${fieldCode(f, desc, ctx)} break;`);
  });
  lines.push(`default: h.bail();`, `}`, `}`);
  lines.push(`return m;`, `}`);
  return lines.join("\n");
}

/** Enum value numbers by JSON name and proto name; the proto name wins a clash, as in @bufbuild. */
function enumNumbers(e: DescEnum): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const v of e.values) numbers.set(v.jsonName, v.number);
  for (const v of e.values) numbers.set(v.name, v.number);
  return numbers;
}

/** An expression converting JSON value `x` to a scalar's local value (bailing when invalid). */
function scalarExpr(t: ScalarType, x: string, longAsString: boolean): string {
  const las = longAsString ? "true" : "false";
  switch (t) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return `((${x} | 0) === ${x} ? ${x} : h.int32(${x}))`;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return `((${x} >>> 0) === ${x} ? ${x} : h.uint32(${x}))`;
    case ScalarType.DOUBLE:
      return `(typeof ${x} === "number" && ${x} - ${x} === 0 ? ${x} : h.double(${x}))`;
    case ScalarType.FLOAT:
      return `h.float(${x})`;
    case ScalarType.BOOL:
      return `(${x} === true || ${x} === false ? ${x} : h.bail())`;
    case ScalarType.STRING:
      return `h.string(${x})`;
    case ScalarType.BYTES:
      return `h.bytes(${x})`;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return `h.int64(${x}, ${las})`;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return `h.uint64(${x}, ${las})`;
  }
}

/** An expression converting JSON value `x` (not null) to the local value of a singular/list item/map value of `f`. */
function valueExpr(f: DescField, x: string, ctx: GenContext): string {
  const e = f.enum;
  if (e !== undefined) {
    const names = ctx.constant(enumNumbers(e));
    const known = ctx.constant(new Set(e.values.map((v) => v.number)));
    return `(typeof ${x} === "string" && (t = ${names}.get(${x})) !== undefined ? t : h.enumValue(${x}, ${names}, ${e.open ? "true" : "false"}, ${known}))`;
  }
  const msg = f.message;
  if (msg !== undefined) return `${ctx.dec(msg)}(${x}, d + 1, R)`;
  const scalar = f.scalar;
  if (scalar === undefined) throw new Error("codec: field without a value type");
  return scalarExpr(scalar, x, f.fieldKind !== "map" && f.longAsString);
}

/** Map key `mk` (a JSON object key) checked and converted to the record key. */
function mapKeyExpr(t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING:
      return `h.string(mk)`;
    case ScalarType.BOOL:
      return `(mk === "true" || mk === "false" ? mk : h.bail())`;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return `h.key64(mk, false)`;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return `h.key64(mk, true)`;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return `h.uint32(mk)`;
    default:
      return `h.int32(mk)`;
  }
}

function fieldCode(f: DescField, desc: DescMessage, ctx: GenContext): string {
  const local = q(f.localName);
  switch (f.fieldKind) {
    case "scalar":
    case "enum":
    case "message": {
      const oneof = f.oneof;
      if (oneof === undefined) return `if (v !== null) m[${local}] = ${valueExpr(f, "v", ctx)};`;
      const o = `o${int(desc.oneofs.indexOf(oneof))}`;
      const set = `m[${q(oneof.localName)}] = { case: ${local}, value: ${valueExpr(f, "v", ctx)} };`;
      // A null scalar is skipped before the oneof check; null enums and
      // messages still count as setting the oneof.
      if (f.fieldKind === "scalar") return `if (v !== null) { if (${o}) h.bail(); ${o} = 1; ${set} }`;
      return `if (${o}) h.bail(); ${o} = 1; if (v !== null) { ${set} }`;
    }
    case "list":
      return [
        `if (v !== null) { if (!Array.isArray(v)) h.bail(); a = m[${local}];`,
        `for (mi = 0; mi < v.length; mi++) { x = v[mi]; if (x === null) h.bail(); a.push(${valueExpr(f, "x", ctx)}); } }`,
      ].join(" ");
    case "map": {
      // Different JSON keys can name the same map key ("1" and "01"):
      // then the record ends up with fewer keys than the object.
      const dupCheck = f.mapKey === ScalarType.STRING ? "" : `if (Object.keys(a).length !== mks.length) h.bail();`;
      return [
        `if (v !== null) { if (typeof v !== "object" || Array.isArray(v)) h.bail(); a = m[${local}];`,
        `mks = Object.keys(v); h.state.keys += mks.length;`,
        `for (mi = 0; mi < mks.length; mi++) { mk = mks[mi]; x = v[mk]; if (x === null) h.bail();`,
        `h.setOwn(a, ${mapKeyExpr(f.mapKey)}, ${valueExpr(f, "x", ctx)}); }`,
        `${dupCheck} }`,
      ].join(" ");
    }
  }
}
