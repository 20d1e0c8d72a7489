import assert from "node:assert/strict";
import type { DescMessage } from "@bufbuild/protobuf";
import { clone, equals } from "@bufbuild/protobuf";

/** Asserts two messages are equal for @bufbuild's equals() and structurally (prototypes, $typeName, $unknown). */
export function assertSameMessage(desc: DescMessage, actual: unknown, expected: unknown): void {
  assert.deepStrictEqual(actual, expected);
  // equals() treats NaN as unequal to itself, so compare against the reference with itself.
  let self: boolean;
  try {
    self = equals(desc, expected as never, clone(desc, expected as never));
  } catch {
    return; // clone() rejects values fromBinary produces (e.g. unknown closed-enum values in lists)
  }
  assert.equal(equals(desc, actual as never, expected as never), self, "equals() differs");
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}
