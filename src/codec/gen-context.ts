import type { DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

/**
 * Shared state while generating the source of one compilation group.
 * Generated code only ever contains: numbers checked to be integers,
 * JSON.stringify'd strings (property names, type names), identifiers we
 * make up, and references into the closure array `K`.
 */
export interface GenContext {
  /** Identifier of the encode function for `desc` (generated or external). */
  enc(desc: DescMessage): string;
  /** Identifier of the decode function for `desc` (generated or external). */
  dec(desc: DescMessage): string;
  /** Registers a runtime constant; returns an expression reading it. */
  constant(value: unknown): string;
}

/** A safe JS literal for a property name or other string. */
export function q(s: string): string {
  return JSON.stringify(s);
}

/** A safe JS literal for an integer taken from a descriptor. */
export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`codec: unexpected non-integer ${String(n)} in descriptor`);
  return String(n);
}

/** The uint32 value of a tag. */
export function tagValue(fieldNo: number, wireType: number): number {
  return ((fieldNo << 3) | wireType) >>> 0;
}

/** Varint bytes of a tag. */
export function tagBytes(fieldNo: number, wireType: number): number[] {
  let v = tagValue(fieldNo, wireType);
  const out: number[] = [];
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

export const WT_VARINT = 0;
export const WT_BIT64 = 1;
export const WT_LEN = 2;
export const WT_BIT32 = 5;

/** Wire type of a scalar (enums are INT32). */
export function wireTypeOf(t: ScalarType): number {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WT_LEN;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WT_BIT64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WT_BIT32;
    default:
      return WT_VARINT;
  }
}

/** Maximum encoded size of a fixed-size scalar value; undefined for string/bytes. */
export function maxScalarSize(t: ScalarType): number | undefined {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return undefined;
    case ScalarType.BOOL:
      return 1;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 8;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 4;
    default:
      return 10;
  }
}

/**
 * Condition under which an implicit-presence value `v` is not its zero value
 * (and so is written), as @bufbuild decides it for both binary and JSON.
 * `zeroEnum` is the first value of an enum field.
 */
export function nonZero(t: ScalarType, zeroEnum: number | undefined): string {
  if (zeroEnum !== undefined) return `v !== ${int(zeroEnum)}`;
  switch (t) {
    case ScalarType.BOOL:
      return `v !== false`;
    case ScalarType.STRING:
      return `v !== ""`;
    case ScalarType.BYTES:
      return `(!(v instanceof Uint8Array) || v.byteLength > 0)`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `(v !== 0 || 1 / v < 0)`; // Object.is(v, 0) is false for -0
    default:
      return `v != 0`; // loose: matches 0n, 0 and "0"
  }
}
