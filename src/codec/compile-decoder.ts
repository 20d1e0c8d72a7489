import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType, create } from "@bufbuild/protobuf";
import { type GenContext, WT_LEN, int, q, tagValue, wireTypeOf } from "./gen-context.js";

/** @bufbuild's default recursion limit (fromBinary's readOptions.recursionLimit). */
export const RECURSION_LIMIT = 100;

/**
 * Generates `function NAME(buf, pos, end, m, depth)` which decodes exactly
 * `buf[pos, end)` into message `m` (merging, like mergeFromBinary) or into a
 * new message when `m` is undefined, and returns it. The result is what
 * @bufbuild's fromBinary returns (same defaults, prototype, `$unknown`).
 *
 * Dispatch is a `switch` on the whole tag, so a known field arriving with an
 * unexpected wire type falls to `default` and throws (fromBinary would
 * misread it). Reads never look past `end`: lengths are checked before use,
 * fixed-size reads are bounds-checked, and the loop must finish exactly at
 * `end`. Varint fast paths may read one byte past `end`, in which case `pos`
 * ends up beyond `end` and the final check throws.
 */
export function generateDecoder(desc: DescMessage, name: string, ctx: GenContext): string {
  const lines: string[] = [];
  lines.push(`function ${name}(buf, pos, end, m, depth) {`);
  lines.push(`if (depth > ${int(RECURSION_LIMIT)}) h.fail(${q(`maximum recursion depth reached in ${desc.typeName}`)});`);
  lines.push(`if (m === undefined) { ${newMessage(desc, ctx)} }`);
  lines.push(`var uk = m.$unknown, t, v, x, e, a, fn, wt, mk, mv;`);
  lines.push(`while (pos < end) {`);
  lines.push(
    `t = buf[pos++]; if (t > 127) { x = buf[pos]; if (x < 128 && pos < end) { t = (t & 127) | (x << 7); pos++; } else { t = h.readTag(buf, pos - 1, end); pos = h.s.pos; } }`,
  );
  lines.push(`switch (t) {`);
  for (const f of desc.fields) lines.push(`// field ${int(f.number)}`, ...fieldCases(f, ctx));
  lines.push(`default:`);
  lines.push(`fn = t >>> 3; wt = t & 7;`);
  lines.push(`if (fn === 0 || wt > 5) h.fail("illegal tag: field no " + fn + " wire type " + wt);`);
  if (desc.fields.length > 0) {
    lines.push(`switch (fn) { ${desc.fields.map((f) => `case ${int(f.number)}:`).join(" ")} h.fail("wrong wire type " + wt + " for field " + fn); }`);
  }
  lines.push(`x = pos; pos = h.skip(buf, pos, end, wt, fn, ${int(RECURSION_LIMIT)} - depth);`);
  lines.push(`if (uk === undefined) uk = []; uk.push({ no: fn, wireType: wt, data: buf.subarray(x, pos) });`);
  lines.push(`}`, `}`);
  lines.push(`if (pos !== end) h.fail("premature EOF");`);
  lines.push(`if (uk !== undefined && uk.length > 0) m.$unknown = uk;`);
  lines.push(`return m;`, `}`);
  return lines.join("\n");
}

/**
 * Code assigning a fresh message to `m`, equal to create(desc): an object
 * literal for prototype-less messages, else Object.create(<create()'s
 * prototype>) so that proto2 defaults are inherited exactly the same way.
 */
export function newMessage(desc: DescMessage, ctx: GenContext): string {
  const sample = create(desc) as unknown as Record<string, unknown>;
  const proto: unknown = Object.getPrototypeOf(sample);
  const props: [string, string][] = [["$typeName", q(desc.typeName)]];
  for (const member of desc.members) {
    const name = member.localName;
    if (!Object.prototype.hasOwnProperty.call(sample, name)) continue;
    let value: string;
    if (member.kind === "oneof") value = `{ case: undefined }`;
    else if (member.fieldKind === "list") value = `[]`;
    else if (member.fieldKind === "map") value = `{}`;
    else value = literal(sample[name], ctx);
    props.push([name, value]);
  }
  if (proto === Object.prototype) return `m = { ${props.map(([k, v]) => `${q(k)}: ${v}`).join(", ")} };`;
  return `m = Object.create(${ctx.constant(proto)}); ${props.map(([k, v]) => `m[${q(k)}] = ${v};`).join(" ")}`;
}

function literal(v: unknown, ctx: GenContext): string {
  if (typeof v === "string") return q(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0)) return String(v);
  if (typeof v === "bigint") return `${v.toString()}n`;
  return ctx.constant(v);
}

/** Code reading a varint (uint32 semantics) into `x` with bound `end`. */
function readVarint32(x: string, end: string): string {
  return `${x} = buf[pos++]; if (${x} > 127) { ${x} = h.rv32(buf, pos - 1, ${end}); pos = h.s.pos; }`;
}

function readLen(end: string): string {
  return `${readVarint32("x", end)} e = pos + x; if (!(e <= ${end})) h.fail("length past end");`;
}

function fixedCheck(n: number, end: string): string {
  return `if (pos + ${int(n)} > ${end}) h.fail("premature EOF");`;
}

/** Code reading one scalar value into `v` from a record of its own wire type. */
function readScalar(t: ScalarType, strict: boolean, longAsString: boolean, end: string): string {
  const str = (s: string): string => (longAsString ? `${s} v = String(v);` : s);
  switch (t) {
    case ScalarType.INT32:
      return `${readVarint32("v", end)} v = v | 0;`;
    case ScalarType.UINT32:
      return readVarint32("v", end);
    case ScalarType.SINT32:
      return `${readVarint32("v", end)} v = (v >>> 1) ^ -(v & 1);`;
    case ScalarType.BOOL:
      return `v = buf[pos++]; if (v > 127) { v = h.rbool(buf, pos - 1, ${end}); pos = h.s.pos; } else v = v !== 0;`;
    case ScalarType.FIXED32:
      return `${fixedCheck(4, end)} v = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0; pos += 4;`;
    case ScalarType.SFIXED32:
      return `${fixedCheck(4, end)} v = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24); pos += 4;`;
    case ScalarType.FLOAT:
      return `${fixedCheck(4, end)} v = h.rflt(buf, pos); pos += 4;`;
    case ScalarType.DOUBLE:
      return `${fixedCheck(8, end)} v = h.rdbl(buf, pos); pos += 8;`;
    case ScalarType.INT64:
      return str(`v = h.ri64(buf, pos, ${end}, false); pos = h.s.pos;`);
    case ScalarType.UINT64:
      return str(`v = h.ri64(buf, pos, ${end}, true); pos = h.s.pos;`);
    case ScalarType.SINT64:
      return str(`v = h.rs64(buf, pos, ${end}); pos = h.s.pos;`);
    case ScalarType.FIXED64:
      return str(`${fixedCheck(8, end)} v = h.rf64(buf, pos, false); pos += 8;`);
    case ScalarType.SFIXED64:
      return str(`${fixedCheck(8, end)} v = h.rf64(buf, pos, true); pos += 8;`);
    case ScalarType.STRING:
      return `${readLen(end)} v = h.rstr(buf, pos, e, ${strict ? "true" : "false"}); pos = e;`;
    case ScalarType.BYTES:
      return `${readLen(end)} v = buf.subarray(pos, e); pos = e;`;
  }
}

function fieldCases(f: DescField, ctx: GenContext): string[] {
  const prop = `m[${q(f.localName)}]`;
  switch (f.fieldKind) {
    case "scalar":
    case "enum": {
      const t = f.fieldKind === "enum" ? ScalarType.INT32 : f.scalar;
      const assign = f.oneof ? `m[${q(f.oneof.localName)}] = { case: ${q(f.localName)}, value: v };` : `${prop} = v;`;
      const las = f.fieldKind === "scalar" && f.longAsString;
      let body = `${readScalar(t, f.utf8Validation, las, "end")} ${assign}`;
      if (f.fieldKind === "enum" && !f.enum.open) {
        // Closed enum: unknown values go to $unknown (appended to m.$unknown
        // directly, exactly like fromBinary, including its ordering quirk).
        const set = ctx.constant(new Set(f.enum.values.map((ev) => ev.number)));
        body = `${readScalar(t, false, false, "end")} if (${set}.has(v)) { ${assign} } else { x = m.$unknown; if (x === undefined) m.$unknown = x = []; x.push({ no: ${int(f.number)}, wireType: 0, data: h.i32b(v) }); }`;
      }
      return [`case ${int(tagValue(f.number, wireTypeOf(t)))}: ${body} break;`];
    }
    case "message": {
      const dec = ctx.dec(f.message);
      if (f.oneof) {
        const on = q(f.oneof.localName);
        const name = q(f.localName);
        return [
          `case ${int(tagValue(f.number, WT_LEN))}: ${readLen("end")} x = m[${on}]; v = ${dec}(buf, pos, e, x !== undefined && x.case === ${name} ? x.value : undefined, depth + 1); m[${on}] = { case: ${name}, value: v }; pos = e; break;`,
        ];
      }
      return [`case ${int(tagValue(f.number, WT_LEN))}: ${readLen("end")} ${prop} = ${dec}(buf, pos, e, ${prop}, depth + 1); pos = e; break;`];
    }
    case "list": {
      if (f.listKind === "message") {
        return [`case ${int(tagValue(f.number, WT_LEN))}: ${readLen("end")} ${prop}.push(${ctx.dec(f.message)}(buf, pos, e, undefined, depth + 1)); pos = e; break;`];
      }
      const t = f.listKind === "enum" ? ScalarType.INT32 : f.scalar;
      const wt = wireTypeOf(t);
      const las = f.listKind === "scalar" && f.longAsString;
      const cases = [`case ${int(tagValue(f.number, wt))}: ${readScalar(t, f.utf8Validation, las, "end")} ${prop}.push(v); break;`];
      if (wt !== WT_LEN) {
        // Packed encoding is accepted whatever the field's own `packed` says.
        cases.push(
          `case ${int(tagValue(f.number, WT_LEN))}: ${readLen("end")} a = ${prop}; while (pos < e) { ${readScalar(t, false, las, "e")} a.push(v); } if (pos !== e) h.fail("packed field overrun"); break;`,
        );
      }
      return cases;
    }
    case "map":
      return [mapCase(f, prop, ctx)];
  }
}

function mapCase(f: DescField & { fieldKind: "map" }, prop: string, ctx: GenContext): string {
  const kt = f.mapKey;
  const keyZero = kt === ScalarType.STRING ? `""` : kt === ScalarType.BOOL ? "false" : isLong(kt) ? "0n" : "0";
  let valueCase: string;
  let valueDefault: string;
  if (f.mapKind === "message") {
    const dec = ctx.dec(f.message);
    valueCase = `if (t === ${int(tagValue(2, WT_LEN))}) { x = buf[pos++]; if (x > 127) { x = h.rv32(buf, pos - 1, e); pos = h.s.pos; } x = pos + x; if (!(x <= e)) h.fail("length past end"); mv = ${dec}(buf, pos, x, mv, depth + 1); pos = x; }`;
    valueDefault = `${dec}(buf, 0, 0, undefined, 1)`;
  } else {
    const vt = f.mapKind === "enum" ? ScalarType.INT32 : f.scalar;
    valueCase = `if (t === ${int(tagValue(2, wireTypeOf(vt)))}) { ${readScalarNoLenVar(vt, f)} mv = v; }`;
    if (f.mapKind === "enum") valueDefault = int(f.enum.values[0]?.number ?? 0);
    else if (vt === ScalarType.BYTES) valueDefault = `new Uint8Array(0)`;
    else if (vt === ScalarType.STRING) valueDefault = `""`;
    else if (vt === ScalarType.BOOL) valueDefault = `false`;
    else if (isLong(vt)) valueDefault = `0n`;
    else valueDefault = `0`;
  }
  return [
    `case ${int(tagValue(f.number, WT_LEN))}: ${readLen("end")} mk = ${keyZero}; mv = undefined;`,
    `while (pos < e) {`,
    `t = buf[pos++]; if (t > 127) { t = h.readTag(buf, pos - 1, e); pos = h.s.pos; }`,
    `if (t === ${int(tagValue(1, wireTypeOf(kt)))}) { ${readScalarNoLenVar(kt, f)} mk = v; }`,
    `else ${valueCase}`,
    `else { fn = t >>> 3; wt = t & 7; if (fn === 0 || wt > 5) h.fail("illegal tag"); if (fn === 1 || fn === 2) h.fail("wrong wire type in map entry"); pos = h.skip(buf, pos, e, wt, fn, ${int(RECURSION_LIMIT)} - depth); }`,
    `}`,
    `if (pos !== e) h.fail("map entry overrun");`,
    `if (mv === undefined) mv = ${valueDefault};`,
    `h.setOwn(${prop}, mk, mv); break;`,
  ].join(" ");
}

function isLong(t: ScalarType): boolean {
  return t === ScalarType.INT64 || t === ScalarType.UINT64 || t === ScalarType.SINT64 || t === ScalarType.FIXED64 || t === ScalarType.SFIXED64;
}

/**
 * Like readScalar bounded by the entry end `e`, but without clobbering `e`:
 * string/bytes use `x` as their end. Map keys/values never use longAsString.
 */
function readScalarNoLenVar(t: ScalarType, f: DescField): string {
  if (t === ScalarType.STRING || t === ScalarType.BYTES) {
    const len = `x = buf[pos++]; if (x > 127) { x = h.rv32(buf, pos - 1, e); pos = h.s.pos; } x = pos + x; if (!(x <= e)) h.fail("length past end");`;
    return t === ScalarType.STRING
      ? `${len} v = h.rstr(buf, pos, x, ${f.utf8Validation ? "true" : "false"}); pos = x;`
      : `${len} v = buf.subarray(pos, x); pos = x;`;
  }
  return readScalar(t, f.utf8Validation, false, "e");
}
