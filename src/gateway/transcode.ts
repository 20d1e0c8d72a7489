import type { DescMessage, Message, MessageShape, Registry } from "@bufbuild/protobuf";
import { getCodec, getJsonCodec } from "../codec/index.js";
import { Code, GomsError } from "../errors/index.js";

/**
 * proto3 JSON request body -> message. Unknown fields, wrong types and
 * malformed JSON are invalid_argument ("invalid <TypeName> JSON: ..."). An
 * empty body means `{}`.
 */
export function jsonToMessage<Desc extends DescMessage>(desc: Desc, registry: Registry, body: string): MessageShape<Desc> {
  return getJsonCodec(desc, registry).fromJson(body.length === 0 ? "{}" : body);
}

/** Message -> proto3 JSON (int64 as strings, enums by name, default values omitted). Unencodable messages are internal. */
export function messageToJson<Desc extends DescMessage>(desc: Desc, registry: Registry, msg: MessageShape<Desc> | Message): string {
  return getJsonCodec(desc, registry).toJson(msg as MessageShape<Desc>);
}

/** proto3 JSON request body -> protobuf bytes; see jsonToMessage. */
export function jsonToBinary(desc: DescMessage, registry: Registry, body: string): Uint8Array {
  return getCodec(desc).encode(jsonToMessage(desc, registry, body));
}

/** Protobuf response bytes -> proto3 JSON; see messageToJson. */
export function binaryToJson(desc: DescMessage, registry: Registry, bytes: Uint8Array): string {
  let msg;
  try {
    msg = getCodec(desc).decode(bytes);
  } catch (e) {
    throw new GomsError(`cannot decode the ${desc.typeName} response: ${(e as Error).message}`, Code.Internal, { cause: e });
  }
  return messageToJson(desc, registry, msg);
}
