import { fromJsonString, toJsonString, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { Code, GomsError } from "../errors/index.js";

/**
 * proto3 JSON request body -> message. Unknown fields, wrong types and
 * malformed JSON are invalid_argument. An empty body means `{}`.
 */
export function jsonToMessage(desc: DescMessage, registry: Registry, body: string): Message {
  try {
    return fromJsonString(desc, body.length === 0 ? "{}" : body, { registry, ignoreUnknownFields: false });
  } catch (e) {
    throw new GomsError(`invalid ${desc.typeName} JSON: ${(e as Error).message}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_JSON", cause: e });
  }
}

/** Response message -> proto3 JSON (int64 as strings, enums by name, default values omitted). */
export function messageToJson(desc: DescMessage, registry: Registry, msg: Message, prettySpaces = 0): string {
  try {
    return toJsonString(desc, msg, { registry, alwaysEmitImplicit: false, prettySpaces });
  } catch (e) {
    throw new GomsError(`cannot encode the ${desc.typeName} response as JSON: ${(e as Error).message}`, Code.Internal, { cause: e });
  }
}
