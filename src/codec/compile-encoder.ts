import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { type GenContext, WT_LEN, int, maxScalarSize, nonZero, q, tagBytes, wireTypeOf } from "./gen-context.js";

/**
 * Generates `function NAME(m, w)` which appends the fields of message `m`
 * (a full message or a MessageInitShape) to Writer `w`, byte-identical to
 * @bufbuild's toBinary: fields in field-number order, then `$unknown`.
 *
 * Locals: `buf`/`pos` cache `w.buf`/`w.pos`; they are written back before
 * any call that may grow the writer and re-read afterwards. Every function
 * keeps `R` bytes reserved (the worst case of all its fixed-size scalar
 * fields), so those fields need no capacity checks of their own.
 * Length-delimited payloads of unknown size reserve one length byte and are
 * fixed up by h.finishLd (which shifts the payload when it is >= 128 bytes).
 */
export function generateEncoder(desc: DescMessage, name: string, ctx: GenContext): string {
  const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
  let reserve = 16; // slack for finishLd widening and tags
  for (const f of fields) {
    if (f.fieldKind === "scalar" || f.fieldKind === "enum") {
      const t = f.fieldKind === "enum" ? ScalarType.INT32 : f.scalar;
      const max = maxScalarSize(t);
      if (max !== undefined) reserve += tagBytes(f.number, wireTypeOf(t)).length + max;
    }
  }
  const R = int(reserve);
  const grow = (n: string): string =>
    `g = ${n} + ${R}; if (buf.length - pos < g) { w.pos = pos; w.ensure(g); buf = w.buf; pos = w.pos; }`;
  const lines: string[] = [];
  lines.push(`function ${name}(m, w) {`);
  lines.push(`var buf = w.buf, pos = w.pos, g, v, x, i, n, k, kk, ks, r0, r1, r2;`);
  lines.push(grow("0"));
  for (const f of fields) lines.push(`// field ${int(f.number)}`, fieldCode(f, ctx, grow, R));
  lines.push(
    `v = m.$unknown;`,
    `if (v != null) for (i = 0; i < v.length; i++) { x = v[i]; ${grow("x.data.length + 5")}`,
    `n = ((x.no << 3) | x.wireType) >>> 0; while (n > 127) { buf[pos++] = (n & 127) | 128; n >>>= 7; } buf[pos++] = n;`,
    `buf.set(x.data, pos); pos += x.data.length; }`,
  );
  lines.push(`w.pos = pos;`, `}`);
  return lines.join("\n");
}

function tag(fieldNo: number, wt: number): string {
  return tagBytes(fieldNo, wt)
    .map((b) => `buf[pos++] = ${int(b)};`)
    .join(" ");
}

/** Code writing scalar value `x` (no tag); capacity already ensured. */
function scalarCode(t: ScalarType, x: string): string {
  const varint = `while (${x} > 127) { buf[pos++] = (${x} & 127) | 128; ${x} >>>= 7; } buf[pos++] = ${x};`;
  const fixed32 = `buf[pos] = ${x} & 255; buf[pos + 1] = (${x} >>> 8) & 255; buf[pos + 2] = (${x} >>> 16) & 255; buf[pos + 3] = (${x} >>> 24) & 255; pos += 4;`;
  switch (t) {
    case ScalarType.INT32:
      return `if ((${x} | 0) !== ${x}) ${x} = h.i32(${x}); if (${x} >= 0) { ${varint} } else pos = h.neg(buf, pos, ${x});`;
    case ScalarType.UINT32:
      return `if ((${x} >>> 0) !== ${x}) ${x} = h.u32(${x}); ${varint}`;
    case ScalarType.SINT32:
      return `if ((${x} | 0) !== ${x}) ${x} = h.i32(${x}); ${x} = ((${x} << 1) ^ (${x} >> 31)) >>> 0; ${varint}`;
    case ScalarType.BOOL:
      return `buf[pos++] = ${x} ? 1 : 0;`;
    case ScalarType.FIXED32:
      return `if ((${x} >>> 0) !== ${x}) ${x} = h.u32(${x}); ${fixed32}`;
    case ScalarType.SFIXED32:
      return `if ((${x} | 0) !== ${x}) ${x} = h.i32(${x}); ${fixed32}`;
    case ScalarType.FLOAT:
      return `pos = h.wflt(buf, pos, ${x});`;
    case ScalarType.DOUBLE:
      return `pos = h.wdbl(buf, pos, ${x});`;
    case ScalarType.INT64:
      return `pos = h.wi64(buf, pos, ${x}, false);`;
    case ScalarType.SINT64:
      return `pos = h.wi64(buf, pos, ${x}, true);`;
    case ScalarType.UINT64:
      return `pos = h.wu64(buf, pos, ${x});`;
    case ScalarType.FIXED64:
      return `pos = h.wf64(buf, pos, ${x}, false);`;
    case ScalarType.SFIXED64:
      return `pos = h.wf64(buf, pos, ${x}, true);`;
    case ScalarType.STRING:
      return `pos = h.wstr(buf, pos, ${x});`;
    case ScalarType.BYTES:
      return `n = ${x}.length; while (n > 127) { buf[pos++] = (n & 127) | 128; n >>>= 7; } buf[pos++] = n; buf.set(${x}, pos); pos += ${x}.length;`;
  }
}

/** Conversion of a value before sizing/writing (strings and bytes only). */
function preCode(t: ScalarType, x: string): string {
  if (t === ScalarType.STRING) return `if (typeof ${x} !== "string") ${x} = String(${x});`;
  if (t === ScalarType.BYTES) return `${x} = h.toU8(${x});`;
  return "";
}

/** Variable-size capacity needed for value `x` (after preCode), or "0". */
function varSize(t: ScalarType, x: string): string {
  if (t === ScalarType.STRING) return `${x}.length * 3 + 5`;
  if (t === ScalarType.BYTES) return `${x}.length + 5`;
  return int(maxScalarSize(t) ?? 0);
}

/** Tag + value of a singular scalar/enum in `v`, with capacity handling. */
function taggedScalar(f: DescField, t: ScalarType, grow: (n: string) => string): string {
  const tb = tagBytes(f.number, wireTypeOf(t));
  const pre = preCode(t, "v");
  const g = pre === "" ? "" : grow(`${varSize(t, "v")} + ${int(tb.length)}`);
  return `${g} ${tag(f.number, wireTypeOf(t))} ${scalarCode(t, "v")}`;
}

/** Writes message value `x` as tag + length-delimited payload via function `fn`. */
function messageCode(fieldNo: number, x: string, fn: string, r: string, grow: (n: string) => string, R: string): string {
  return [
    grow("6"),
    tag(fieldNo, WT_LEN),
    `${r} = ++pos - w.start; w.pos = pos;`,
    `if (${x} != null) ${fn}(${x}, w);`,
    `h.finishLd(w, ${r}); buf = w.buf; pos = w.pos;`,
    `if (buf.length - pos < ${R}) { w.ensure(${R}); buf = w.buf; pos = w.pos; }`,
  ].join(" ");
}

function fieldCode(f: DescField, ctx: GenContext, grow: (n: string) => string, R: string): string {
  const prop = `m[${q(f.localName)}]`;
  switch (f.fieldKind) {
    case "scalar":
    case "enum": {
      const t = f.fieldKind === "enum" ? ScalarType.INT32 : f.scalar;
      const pre = preCode(t, "v");
      const write = taggedScalar(f, t, grow);
      if (f.oneof) {
        return `v = m[${q(f.oneof.localName)}]; if (v != null && v.case === ${q(f.localName)}) { v = v.value; ${pre} ${write} }`;
      }
      if (f.presence === 2 /* IMPLICIT */) {
        const zeroEnum = f.fieldKind === "enum" ? f.enum.values[0]?.number ?? 0 : undefined;
        return `v = ${prop}; if (v != null) { ${pre} if (${nonZero(t, zeroEnum)}) { ${write} } }`;
      }
      const required =
        f.presence === 3 /* LEGACY_REQUIRED */
          ? ` else h.fail(${q(`cannot encode field ${f.parent.typeName}.${f.name} to binary: required field not set`)});`
          : "";
      return `v = ${prop}; if (v != null && h.own.call(m, ${q(f.localName)})) { ${pre} ${write} }${required}`;
    }
    case "message": {
      const fn = ctx.enc(f.message);
      if (f.oneof) {
        return `v = m[${q(f.oneof.localName)}]; if (v != null && v.case === ${q(f.localName)}) { v = v.value; ${messageCode(f.number, "v", fn, "r0", grow, R)} }`;
      }
      const required =
        f.presence === 3 ? ` else h.fail(${q(`cannot encode field ${f.parent.typeName}.${f.name} to binary: required field not set`)});` : "";
      return `v = ${prop}; if (v != null) { ${messageCode(f.number, "v", fn, "r0", grow, R)} }${required}`;
    }
    case "list":
      return listCode(f, prop, ctx, grow, R);
    case "map":
      return mapCode(f, prop, ctx, grow);
  }
}

function listCode(f: DescField & { fieldKind: "list" }, prop: string, ctx: GenContext, grow: (n: string) => string, R: string): string {
  const head = `v = ${prop}; if (v != null && v.length > 0) {`;
  if (f.listKind === "message") {
    return `${head} for (i = 0; i < v.length; i++) { x = v[i]; ${messageCode(f.number, "x", ctx.enc(f.message), "r0", grow, R)} } }`;
  }
  const t = f.listKind === "enum" ? ScalarType.INT32 : f.scalar;
  const wt = wireTypeOf(t);
  const max = maxScalarSize(t);
  if (f.packed && max !== undefined) {
    if (wt !== 0) {
      // Fixed width: the payload size is known up front.
      return `${head} n = v.length * ${int(max)}; ${grow("n + 10")} ${tag(f.number, WT_LEN)} ${scalarCode(ScalarType.UINT32, "n")} for (i = 0; i < v.length; i++) { x = v[i]; ${scalarCode(t, "x")} } }`;
    }
    return `${head} ${grow(`v.length * ${int(max)} + 10`)} ${tag(f.number, WT_LEN)} r0 = ++pos - w.start; for (i = 0; i < v.length; i++) { x = v[i]; ${scalarCode(t, "x")} } w.pos = pos; h.finishLd(w, r0); buf = w.buf; pos = w.pos; }`;
  }
  const tl = tagBytes(f.number, wt).length;
  if (max !== undefined) {
    return `${head} ${grow(`v.length * ${int(max + tl)}`)} for (i = 0; i < v.length; i++) { x = v[i]; ${tag(f.number, wt)} ${scalarCode(t, "x")} } }`;
  }
  return `${head} for (i = 0; i < v.length; i++) { x = v[i]; ${preCode(t, "x")} ${grow(`${varSize(t, "x")} + ${int(tl)}`)} ${tag(f.number, wt)} ${scalarCode(t, "x")} } }`;
}

function keyConvert(t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING:
      return `kk = k;`;
    case ScalarType.BOOL:
      return `kk = h.keyBool(k);`;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return `kk = h.keyInt64(k);`;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return `kk = h.keyUint64(k);`;
    default:
      return `kk = h.keyInt(k);`;
  }
}

function mapCode(f: DescField & { fieldKind: "map" }, prop: string, ctx: GenContext, grow: (n: string) => string): string {
  const kt = f.mapKey;
  const keyWrite = `${tag(1, wireTypeOf(kt))} ${scalarCode(kt, "kk")}`;
  const keySize = kt === ScalarType.STRING ? `kk.length * 3 + 6` : int((maxScalarSize(kt) ?? 0) + 1);
  let valuePre = "";
  let valueSize = "0";
  let valueWrite: string;
  if (f.mapKind === "message") {
    valueWrite = [
      tag(2, WT_LEN),
      `r2 = ++pos - w.start; w.pos = pos;`,
      `if (x != null) ${ctx.enc(f.message)}(x, w);`,
      `h.finishLd(w, r2); buf = w.buf; pos = w.pos;`,
    ].join(" ");
  } else {
    const vt = f.mapKind === "enum" ? ScalarType.INT32 : f.scalar;
    valuePre = preCode(vt, "x");
    valueSize = `${varSize(vt, "x")} + 1`;
    valueWrite = `${tag(2, wireTypeOf(vt))} ${scalarCode(vt, "x")}`;
  }
  return [
    `v = ${prop}; if (v != null) { ks = Object.keys(v); for (i = 0; i < ks.length; i++) { k = ks[i]; x = v[k];`,
    keyConvert(kt),
    valuePre,
    grow(`${keySize} + ${valueSize} + 12`),
    tag(f.number, WT_LEN),
    `r1 = ++pos - w.start;`,
    keyWrite,
    valueWrite,
    `w.pos = pos; h.finishLd(w, r1); buf = w.buf; pos = w.pos;`,
    `} ${grow("0")} }`,
  ].join(" ");
}
