import type { DescMethod } from "@bufbuild/protobuf";
import { getCodec } from "../codec/index.js";
import type { ClientMethod } from "../internal/conn/client-conn.js";
import { jsonDecoder, jsonEncoder, protoDecoder, protoEncoder, rawDecoder, rawEncoder } from "../internal/conn/payload.js";

/** A method ready to call: wire path, codecs and the service it routes by. */
export interface RoutedMethod extends ClientMethod {
  /** Fully-qualified service name, the routing key. */
  readonly service: string;
  /** "pkg.Service/Method" */
  readonly pathString: string;
  /** "Method" */
  readonly method: string;
  readonly desc: DescMethod | undefined;
}

// Memo caches: pure functions of their keys, safe to share between nodes.
const typed = new WeakMap<DescMethod, RoutedMethod>();
const raw = new Map<string, RoutedMethod>();
const json = new Map<string, RoutedMethod>();

export function typedMethod(method: DescMethod): RoutedMethod {
  let m = typed.get(method);
  if (m === undefined) {
    const pathString = `${method.parent.typeName}/${method.name}`;
    m = {
      path: Buffer.from(pathString, "latin1"),
      pathString,
      method: method.name,
      service: method.parent.typeName,
      req: protoEncoder(getCodec(method.input)),
      res: protoDecoder(getCodec(method.output)),
      desc: method,
    };
    typed.set(method, m);
  }
  return m;
}

/** Protobuf bytes in and out, by path ("pkg.Service/Method"). */
export function rawMethod(pathString: string): RoutedMethod {
  return byPath(raw, pathString, "raw");
}

/** proto3 JSON text in and out, by path; the server transcodes. */
export function jsonMethod(pathString: string): RoutedMethod {
  return byPath(json, pathString, "json");
}

function byPath(cache: Map<string, RoutedMethod>, pathString: string, kind: "raw" | "json"): RoutedMethod {
  let m = cache.get(pathString);
  if (m === undefined) {
    m = {
      path: Buffer.from(pathString, "latin1"),
      pathString,
      method: pathString.slice(pathString.indexOf("/") + 1),
      service: pathString.slice(0, pathString.indexOf("/")),
      req: kind === "raw" ? rawEncoder : jsonEncoder,
      res: kind === "raw" ? rawDecoder : jsonDecoder,
      desc: undefined,
    };
    if (cache.size > 10_000) cache.clear();
    cache.set(pathString, m);
  }
  return m;
}
