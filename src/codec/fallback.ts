import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, mergeFromBinary, toBinary } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import type { CompiledMessage } from "./compiled.js";
import { RECURSION_LIMIT } from "./compile-decoder.js";

/**
 * Message types the generated code does not specialize, and that go through
 * @bufbuild's toBinary/fromBinary instead (correct, just slower):
 *
 * - fields with delimited encoding (proto2 groups, editions DELIMITED):
 *   they need a different framing (StartGroup/EndGroup tags);
 * - singular google.protobuf wrapper fields (Int32Value, StringValue, ...)
 *   outside oneofs, which @bufbuild unboxes to plain scalars;
 * - google.protobuf.Struct fields, which @bufbuild represents as JsonObject.
 *
 * Extensions need nothing special: @bufbuild v2 keeps them in `$unknown`,
 * which the generated code round-trips. Only the message type that has such
 * a field falls back; its parents and children still use generated code.
 */
export function fallbackReason(desc: DescMessage): string | undefined {
  for (const f of desc.fields) {
    const child = f.fieldKind === "message" ? f.message : f.fieldKind === "list" && f.listKind === "message" ? f.message : f.fieldKind === "map" && f.mapKind === "message" ? f.message : undefined;
    if (child === undefined) continue;
    if ((f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")) && f.delimitedEncoding) return "delimited encoding";
    if (child.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") return "Struct as JSON";
    if (f.fieldKind === "message" && !f.oneof && isWrapperDesc(child)) return "unboxed wrapper";
  }
  return undefined;
}

/** A CompiledMessage that delegates to @bufbuild's reflection-based codec. */
export function fallbackMessage(desc: DescMessage): CompiledMessage {
  return {
    enc(m, w) {
      const bytes = toBinary(desc, create(desc, m as never));
      w.ensure(bytes.length);
      w.buf.set(bytes, w.pos);
      w.pos += bytes.length;
    },
    dec(buf, pos, end, m, depth) {
      // Keep the overall recursion limit: this level counts as `depth`.
      const opts = { recursionLimit: RECURSION_LIMIT - depth + 1 };
      const bytes = buf.subarray(pos, end);
      if (depth > RECURSION_LIMIT) throw new Error(`cannot decode ${desc.typeName} from binary: maximum recursion depth reached`);
      return m === undefined ? fromBinary(desc, bytes, opts) : mergeFromBinary(desc, m as never, bytes, opts);
    },
  };
}
