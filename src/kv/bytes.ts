import { invalidArgument } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A value as accepted by the store: bytes, or a string stored as UTF-8. */
export type ValueInput = Uint8Array | string;

/** Copies `v` into a fresh Uint8Array the store owns. */
export function toBytes(v: ValueInput): Uint8Array {
  if (typeof v === "string") return encoder.encode(v);
  if (!(v instanceof Uint8Array)) throw invalidArgument("value must be a Uint8Array or a string");
  return new Uint8Array(v);
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function text(b: Uint8Array): string {
  return decoder.decode(b);
}
