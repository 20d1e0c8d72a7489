import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { type GenContext, nonZero, q } from "./gen-context.js";

/**
 * Generates `function NAME(m, R)` returning the proto3 JSON text of message
 * `m` (registry `R` or undefined), byte-identical to
 * `toJsonString(desc, m, { registry: R })`: fields in field-number order
 * under their JSON name, implicit-presence fields only when not zero,
 * then extensions found in `$unknown`.
 *
 * The text is concatenated directly instead of building an object for
 * JSON.stringify. That gives the same bytes because JSON.stringify without
 * indentation is compositional: `{"k":` + stringify(value) + `}`. A value
 * of the wrong type calls `h.bail()` (see json-runtime.ts).
 */
export function generateJsonEncoder(desc: DescMessage, name: string, ctx: GenContext): string {
  const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
  const lines: string[] = [];
  lines.push(`function ${name}(m, R) {`);
  lines.push(`if (m.$typeName !== ${q(desc.typeName)}) h.bail();`);
  lines.push(`var s = "{", c = "", v, x, t, i, k, ks;`);
  for (const f of fields) lines.push(fieldCode(f, ctx));
  lines.push(`if (R !== undefined && m.$unknown !== undefined) s = h.ext(${ctx.constant(desc)}, m, R, s, c);`);
  lines.push(`return s + "}";`, `}`);
  return lines.join("\n");
}

/** `s += <separator><"jsonName":>` as code. */
function key(f: DescField): string {
  return `s += c + ${q(`${JSON.stringify(f.jsonName)}:`)}; c = ",";`;
}

/** Map number -> quoted JSON name, for enum values. */
function enumNames(e: DescEnum): Map<number, string> {
  const names = new Map<number, string>();
  // Like @bufbuild's `desc.value[n]`: the last declared alias of a number wins.
  for (const v of e.values) names.set(v.number, JSON.stringify(v.jsonName));
  return names;
}

/** An expression giving the JSON text of value `x` of a scalar type. */
function scalarExpr(t: ScalarType, x: string): string {
  switch (t) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return `((${x} | 0) === ${x} ? "" + ${x} : typeof ${x} === "number" ? h.num(${x}) : h.bail())`;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return `((${x} >>> 0) === ${x} ? "" + ${x} : typeof ${x} === "number" ? h.num(${x}) : h.bail())`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `(typeof ${x} === "number" && ${x} - ${x} === 0 ? "" + ${x} : h.dbl(${x}))`;
    case ScalarType.BOOL:
      return `(${x} === true ? "true" : ${x} === false ? "false" : h.bail())`;
    case ScalarType.STRING:
      return `(typeof ${x} === "string" ? h.str(${x}) : h.bail())`;
    case ScalarType.BYTES:
      return `h.b64(${x})`;
    default:
      return `(typeof ${x} === "bigint" ? '"' + ${x} + '"' : h.i64(${x}))`;
  }
}

/** An expression giving the JSON text of a singular value `x` of field `f` (or of its list items / map values). */
function valueExpr(f: DescField, x: string, ctx: GenContext): string {
  const e = f.enum;
  if (e !== undefined) {
    return `(typeof ${x} === "number" ? ((t = ${ctx.constant(enumNames(e))}.get(${x})) !== undefined ? t : h.num(${x})) : h.bail())`;
  }
  const msg = f.message;
  if (msg !== undefined) return `${ctx.enc(msg)}(${x}, R)`;
  const scalar = f.scalar;
  if (scalar === undefined) throw new Error("codec: field without a value type");
  return scalarExpr(scalar, x);
}

function fieldCode(f: DescField, ctx: GenContext): string {
  const local = q(f.localName);
  switch (f.fieldKind) {
    case "scalar":
    case "enum":
    case "message": {
      const write = `${key(f)} s += ${valueExpr(f, "v", ctx)};`;
      if (f.oneof) return `v = m[${q(f.oneof.localName)}]; if (v.case === ${local}) { v = v.value; ${write} }`;
      if (f.presence === 2 /* IMPLICIT */) {
        const zero = f.fieldKind === "enum" ? nonZero(ScalarType.INT32, f.enum.values[0]?.number ?? 0) : nonZero(f.scalar ?? ScalarType.INT32, undefined);
        return `v = m[${local}]; if (${zero}) { ${write} }`;
      }
      const required = f.presence === 3 /* LEGACY_REQUIRED */ ? ` else h.bail();` : "";
      return `v = m[${local}]; if (v !== undefined && h.own.call(m, ${local})) { ${write} }${required}`;
    }
    case "list":
      return [
        `v = m[${local}]; if (v.length > 0) { ${key(f)} s += "[";`,
        `for (i = 0; i < v.length; i++) { x = v[i]; if (i > 0) s += ","; s += ${valueExpr(f, "x", ctx)}; }`,
        `s += "]"; }`,
      ].join(" ");
    case "map":
      return [
        `v = m[${local}]; ks = Object.keys(v); if (ks.length > 0) { ${key(f)} s += "{";`,
        `for (i = 0; i < ks.length; i++) { k = ks[i]; x = v[k]; if (i > 0) s += ","; s += h.str(k) + ":" + ${valueExpr(f, "x", ctx)}; }`,
        `s += "}"; }`,
      ].join(" ");
  }
}
