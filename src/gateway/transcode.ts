import { fromJsonString, toJsonString, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { getCodec } from "../codec/index.js";
import { Code, GomsError } from "../errors/index.js";

/**
 * proto3 JSON request body -> protobuf bytes. Unknown fields, wrong types and
 * malformed JSON are invalid_argument. An empty body means `{}`.
 */
export function jsonToBinary(desc: DescMessage, registry: Registry, body: string): Uint8Array {
  let msg;
  try {
    msg = fromJsonString(desc, body.length === 0 ? "{}" : body, { registry, ignoreUnknownFields: false });
  } catch (e) {
    throw new GomsError(`invalid ${desc.typeName} JSON: ${(e as Error).message}`, Code.InvalidArgument, { cause: e });
  }
  return getCodec(desc).encode(msg);
}

/** Protobuf response bytes -> proto3 JSON (int64 as strings, enums by name, default values omitted). */
export function binaryToJson(desc: DescMessage, registry: Registry, bytes: Uint8Array): string {
  let msg;
  try {
    msg = getCodec(desc).decode(bytes);
  } catch (e) {
    throw new GomsError(`cannot decode the ${desc.typeName} response: ${(e as Error).message}`, Code.Internal, { cause: e });
  }
  return toJsonString(desc, msg, { registry, alwaysEmitImplicit: false });
}
