import type { DescMessage, JsonValue, Message, MessageShape, Registry } from "@bufbuild/protobuf";
import { fromJson, fromJsonString, toJson, toJsonString } from "@bufbuild/protobuf";
import { hasCustomJsonRepresentation } from "@bufbuild/protobuf/wkt";
import { Code, GomsError } from "../errors/index.js";
import { RECURSION_LIMIT } from "./compile-decoder.js";
import { compileGroup, type GroupSpec } from "./compile-group.js";
import { generateJsonDecoder } from "./json-compile-decoder.js";
import { generateJsonEncoder } from "./json-compile-encoder.js";
import { JH } from "./json-runtime.js";

/**
 * A compiled proto3 JSON codec for one message type, equal to @bufbuild's
 * `toJsonString(desc, msg, { registry })` and
 * `fromJsonString(desc, text, { registry })` (unknown keys rejected).
 */
export interface JsonCodec<Desc extends DescMessage = DescMessage> {
  readonly desc: Desc;
  /** proto3 JSON of `msg`, default values omitted. Throws GomsError Internal for an unencodable message. */
  toJson(msg: MessageShape<Desc>): string;
  /** The message in proto3 JSON `text`. Throws GomsError InvalidArgument, the message naming the field. */
  fromJson(text: string): MessageShape<Desc>;
}

/** Internal calling convention of the generated functions. */
interface CompiledJson {
  enc: (m: unknown, registry: Registry | undefined) => string;
  dec: (json: unknown, depth: number, registry: Registry | undefined) => Message;
}

/**
 * Message types read and written by @bufbuild instead of generated code:
 * well-known types with their own JSON form (Timestamp, Any, Struct,
 * wrappers, ...), messages with fields of those types (some of which have a
 * different local representation: unboxed wrappers, Struct as a plain
 * object), and messages with google.protobuf.NullValue fields (which write
 * and read `null`).
 */
function needsReflection(desc: DescMessage): boolean {
  if (hasCustomJsonRepresentation(desc)) return true;
  return desc.fields.some(
    (f) => (f.message !== undefined && hasCustomJsonRepresentation(f.message)) || f.enum?.typeName === "google.protobuf.NullValue",
  );
}

function reflectionJson(desc: DescMessage): CompiledJson {
  return {
    enc: (m, registry) => JSON.stringify(toJson(desc, m as Message, { registry })),
    dec(json, depth, registry) {
      // The generated caller's duplicate-key check must see these keys too;
      // the recursion limit continues from `depth`.
      JH.countValue(json);
      return fromJson(desc, json as JsonValue, { registry, recursionLimit: RECURSION_LIMIT - depth + 1 });
    },
  };
}

/**
 * Appends the extensions of `m` found in `registry` (kept in `$unknown`) to
 * the JSON text `s`, with separator `c` before the first one. Rare, so
 * @bufbuild writes them.
 */
function writeExtensions(desc: DescMessage, m: Message, registry: Registry, s: string, c: string): string {
  const unknown = m.$unknown ?? [];
  if (!unknown.some((u) => registry.getExtensionFor(desc, u.no) !== undefined)) return s;
  const json = toJson(desc, m, { registry }) as Record<string, JsonValue>;
  for (const k of Object.keys(json)) {
    if (!k.startsWith("[")) continue;
    s += `${c}${JSON.stringify(k)}:${JSON.stringify(json[k])}`;
    c = ",";
  }
  return s;
}

const spec: GroupSpec<CompiledJson> = {
  cache: new WeakMap(),
  fallback: (d) => (needsReflection(d) ? reflectionJson(d) : undefined),
  generateEncoder: generateJsonEncoder,
  generateDecoder: generateJsonDecoder,
  helpers: { ...JH, ext: writeExtensions },
};

/**
 * Decodes with the generated code only: the message, or undefined where the
 * codec hands over to @bufbuild (invalid input or a shape it does not
 * specialise). Exposed for tests.
 */
export function decodeJsonFast(desc: DescMessage, registry: Registry | undefined, text: string): Message | undefined {
  const { dec } = compileGroup(desc, spec);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  JH.state.keys = 0;
  JH.state.colons = 0;
  try {
    const m = dec(json, 1, registry);
    return JH.noDuplicateKeys(text) ? m : undefined;
  } catch {
    // Invalid input (h.bail) or an error of @bufbuild on a delegated part:
    // the caller re-reads the whole text with @bufbuild for its error.
    return undefined;
  }
}

/** Encodes with the generated code only; undefined where the codec hands over to @bufbuild. Exposed for tests. */
export function encodeJsonFast(desc: DescMessage, registry: Registry | undefined, msg: Message): string | undefined {
  const { enc } = compileGroup(desc, spec);
  try {
    return enc(msg, registry);
  } catch {
    return undefined;
  }
}

const codecs = new WeakMap<DescMessage, WeakMap<Registry, JsonCodec> & { none?: JsonCodec }>();

/**
 * Returns the proto3 JSON codec for `desc` with `registry` (needed for Any
 * and extensions), compiling it with `new Function` on first use and caching
 * it per descriptor and registry.
 */
export function getJsonCodec<Desc extends DescMessage>(desc: Desc, registry?: Registry): JsonCodec<Desc> {
  let byRegistry = codecs.get(desc);
  if (byRegistry === undefined) {
    byRegistry = new WeakMap();
    codecs.set(desc, byRegistry);
  }
  let codec = registry === undefined ? byRegistry.none : byRegistry.get(registry);
  if (codec === undefined) {
    codec = makeJsonCodec(desc, registry);
    if (registry === undefined) byRegistry.none = codec;
    else byRegistry.set(registry, codec);
  }
  return codec as unknown as JsonCodec<Desc>;
}

function makeJsonCodec<Desc extends DescMessage>(desc: Desc, registry: Registry | undefined): JsonCodec<Desc> {
  compileGroup(desc, spec);
  const writeOptions = { registry, alwaysEmitImplicit: false };
  const readOptions = { registry, ignoreUnknownFields: false };
  return {
    desc,
    toJson(msg) {
      const fast = encodeJsonFast(desc, registry, msg);
      if (fast !== undefined) return fast;
      try {
        return toJsonString(desc, msg, writeOptions);
      } catch (e) {
        throw new GomsError(`cannot encode ${desc.typeName} to JSON: ${(e as Error).message}`, Code.Internal, { cause: e });
      }
    },
    fromJson(text) {
      const fast = decodeJsonFast(desc, registry, text);
      if (fast !== undefined) return fast as MessageShape<Desc>;
      try {
        return fromJsonString(desc, text, readOptions);
      } catch (e) {
        throw new GomsError(`invalid ${desc.typeName} JSON: ${(e as Error).message}`, Code.InvalidArgument, { cause: e });
      }
    },
  };
}
