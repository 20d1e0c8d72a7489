import type { Message } from "@bufbuild/protobuf";
import { Code, GomsError } from "../errors/index.js";
import type { CallOptions, GomsNode, Metadata } from "../rpc/index.js";
import { DescriptorCatalog, type Route } from "./catalog.js";
import { parseMethodName, Routes } from "./routes.js";
import { jsonToMessage, messageToJson } from "./transcode.js";

export interface JsonCallerOptions {
  /** How long fetching a peer's descriptors may take, in ms. Default 3000. */
  descriptorTimeoutMs?: number;
}

export interface JsonCallResult {
  /** proto3 JSON of the response. */
  json: string;
  ret: number;
  metadata: Metadata;
}

/**
 * Calls by name with JSON, with no compiled stubs: the descriptors the nodes
 * publish drive lookup and transcoding. The gateway, the admin console's call
 * form and `goms call` all use this one module, and every call it makes goes
 * through the node's call pipeline by descriptor (interceptors, retries of
 * idempotent methods, limits and tracing included).
 */
export interface JsonCaller {
  readonly catalog: DescriptorCatalog;
  /**
   * Finds a method by service and method name (short or fully-qualified
   * service; lower-case first letters accepted). Synchronous when the route is
   * cached; not_found when no node publishes it, invalid_argument when a short
   * name is ambiguous.
   */
  route(service: string, method: string): Route | Promise<Route>;
  /** route() for one name: "DB.Query", "pkg.DB.Query", "DB/Query" or "pkg.DB/Query". */
  routeByName(name: string): Route | Promise<Route>;
  /** proto3 JSON -> request message (invalid_argument on bad JSON). */
  request(route: Route, json: string): Message;
  /** Response message -> proto3 JSON. */
  response(route: Route, message: Message, prettySpaces?: number): string;
  /** JSON in, JSON out; unary methods only (invalid_argument for a stream). */
  call(route: Route | string, json: string, options?: CallOptions, prettySpaces?: number): Promise<JsonCallResult>;
}

export function createJsonCaller(node: GomsNode, options: JsonCallerOptions = {}): JsonCaller {
  const catalog = new DescriptorCatalog(node, options.descriptorTimeoutMs ?? 3000);
  const routes = new Routes(catalog);
  const routeByName = (name: string): Route | Promise<Route> => {
    const parts = parseMethodName(name);
    if (parts === undefined) throw new GomsError(`method name "${name}" must look like Service.Method`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_FIELD" });
    return routes.resolve(parts.service, parts.method);
  };
  const request = (route: Route, json: string): Message => jsonToMessage(route.method.input, route.entry.registry, json);
  const response = (route: Route, message: Message, prettySpaces = 0): string => messageToJson(route.method.output, route.entry.registry, message, prettySpaces);
  return {
    catalog,
    route: (service, method) => routes.resolve(service, method),
    routeByName,
    request,
    response,
    async call(r, json, o, prettySpaces) {
      const route = typeof r === "string" ? await routeByName(r) : r;
      if (route.method.methodKind !== "unary") throw new GomsError(`${route.path} is a streaming method; call() makes unary calls`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_FIELD" });
      const out = await node.invoke(route.method, request(route, json), o);
      return { json: response(route, out.message as Message, prettySpaces), ret: out.ret, metadata: out.metadata };
    },
  };
}
