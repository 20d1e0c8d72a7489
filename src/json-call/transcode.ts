import type { DescMessage, Message, Registry } from "@bufbuild/protobuf";
import { getJsonCodec } from "../codec/index.js";

/**
 * proto3 JSON request body -> message, with the JSON codec compiled from the
 * descriptors (byte-identical to @bufbuild's proto3 JSON). Unknown fields,
 * wrong types and malformed JSON are invalid_argument ("invalid <TypeName>
 * JSON: ..."). An empty body means `{}`.
 */
export function jsonToMessage(desc: DescMessage, registry: Registry, body: string): Message {
  return getJsonCodec(desc, registry).fromJson(body.length === 0 ? "{}" : body);
}

/** Response message -> proto3 JSON (int64 as strings, enums by name, default values omitted); optionally indented. */
export function messageToJson(desc: DescMessage, registry: Registry, msg: Message, prettySpaces = 0): string {
  const text = getJsonCodec(desc, registry).toJson(msg);
  // Indentation is for people (goms call): re-indenting the compact text gives @bufbuild's pretty output.
  return prettySpaces > 0 ? JSON.stringify(JSON.parse(text), null, prettySpaces) : text;
}
