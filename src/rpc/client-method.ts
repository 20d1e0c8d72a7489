import type { DescMethod } from "@bufbuild/protobuf";
import { getCodec } from "../codec/index.js";
import type { ClientMethod } from "../internal/conn/client-conn.js";
import type { StreamKind } from "../internal/conn/stream-driver.js";
import { protoDecoder, protoEncoder, rawDecoder, rawEncoder } from "../internal/conn/payload.js";

/** A method ready to call: its descriptor, wire path, codecs and the service it routes by. */
export interface RoutedMethod extends ClientMethod {
  readonly desc: DescMethod;
  /** Fully-qualified service name, the routing key. */
  readonly service: string;
  /** "pkg.Service/Method" */
  readonly pathString: string;
  /** "Method" */
  readonly method: string;
  /** Protobuf bytes in and out instead of messages. */
  readonly raw: boolean;
  /** Undefined for a unary method, else its streaming kind. */
  readonly stream: StreamKind | undefined;
}

// Memo caches keyed by descriptor: pure functions of their keys, safe to share
// between nodes, and collected with descriptors that are dropped (the gateway's
// descriptors change when nodes publish new ones).
const typed = new WeakMap<DescMethod, RoutedMethod>();
const raw = new WeakMap<DescMethod, RoutedMethod>();

/**
 * The routed form of a method, resolved once per descriptor: messages in and
 * out, or (with `bytes`) protobuf bytes in and out.
 */
export function routedMethod(method: DescMethod, bytes = false): RoutedMethod {
  const cache = bytes ? raw : typed;
  let m = cache.get(method);
  if (m === undefined) {
    const pathString = `${method.parent.typeName}/${method.name}`;
    m = {
      desc: method,
      path: Buffer.from(pathString, "latin1"),
      pathString,
      method: method.name,
      service: method.parent.typeName,
      req: bytes ? rawEncoder : protoEncoder(getCodec(method.input)),
      res: bytes ? rawDecoder : protoDecoder(getCodec(method.output)),
      raw: bytes,
      stream: method.methodKind === "unary" ? undefined : method.methodKind,
    };
    cache.set(method, m);
  }
  return m;
}
