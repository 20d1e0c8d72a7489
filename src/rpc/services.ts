import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel as Idem } from "@bufbuild/protobuf/wkt";
import { create, isMessage } from "@bufbuild/protobuf";
import { getCodec, getJsonCodec } from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { gomsError } from "../errors/reasons.js";
import type { ServerMethod } from "../internal/conn/dispatcher.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import { driveStream } from "../internal/conn/stream-driver.js";
import { composeServer } from "./interceptors.js";
import type { AsyncLocalStorage } from "node:async_hooks";
import type { HandlerContext } from "../internal/conn/context.js";
import type { HandlerFn, ServerInterceptor, ServiceHooks } from "./types.js";

export interface HostedService {
  readonly desc: DescService;
  readonly hooks: ServiceHooks;
  /** Never routed over HTTP, listed in OpenAPI or the console, or published with the node's descriptors. */
  readonly internal: boolean;
}

/** Package of goms's own services (node introspection, registry, watch, monitor): always internal. */
const GOMS_PACKAGE = "goms.v1.";

/**
 * The one place that says whether a service is internal: every goms.v1.*
 * service, and any service its node registered with `{ internal: true }`.
 * Internal services are callable over RPC, but not from the HTTP gateway, the
 * OpenAPI document or the admin console's call form.
 */
export function isInternalService(typeName: string, markedInternal = false): boolean {
  return markedInternal || typeName.startsWith(GOMS_PACKAGE);
}

/** Wire path of a method: "pkg.Service/Method". */
export function methodPath(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

export function isIdempotent(method: DescMethod): boolean {
  return method.idempotency === Idem.NO_SIDE_EFFECTS || method.idempotency === Idem.IDEMPOTENT;
}

/** The services a node hosts, indexed by wire path. */
export class ServiceTable {
  readonly services = new Map<string, HostedService>();
  private readonly methods = new Map<string, ServerMethod>();
  private readonly interceptors: readonly ServerInterceptor[];
  private readonly als: AsyncLocalStorage<HandlerContext> | undefined;

  constructor(interceptors: readonly ServerInterceptor[], als?: AsyncLocalStorage<HandlerContext>) {
    this.interceptors = interceptors;
    this.als = als;
  }

  add(desc: DescService, impl: Record<string, unknown>, hooks: ServiceHooks, internal = false): void {
    if (this.services.has(desc.typeName)) throw new GomsError(`service ${desc.typeName} is already registered`, Code.AlreadyExists, { reason: "GOMS_ERR_BAD_STATE" });
    for (const key of Object.keys(impl)) {
      if (!desc.methods.some((m) => m.localName === key)) {
        throw new GomsError(`${desc.typeName} has no method "${key}"`, Code.InvalidArgument);
      }
    }
    for (const method of desc.methods) {
      const fn = impl[method.localName];
      if (fn === undefined) continue;
      if (typeof fn !== "function") throw new GomsError(`handler for ${method.name} is not a function`, Code.InvalidArgument);
      const bound: HandlerFn = (req, ctx) => (fn as HandlerFn).call(impl, req, ctx);
      const composed = this.interceptors.length ? composeServer(this.interceptors, bound) : bound;
      const als = this.als;
      const handler: HandlerFn = als === undefined ? composed : (req, ctx) => als.run(ctx, composed, req, ctx);
      const stream = method.methodKind === "unary" ? undefined : method.methodKind;
      // A streaming handler (interceptors included) runs inside driveStream, which feeds it and sends what it
      // yields; the generator's body runs in driveStream's turns, so that is what runs inside the context.
      const drive: HandlerFn = (_req, ctx) => driveStream(composed, ctx as ServerCall);
      const invoke: HandlerFn = stream === undefined ? handler : als === undefined ? drive : (req, ctx) => als.run(ctx, drive, req, ctx);
      this.methods.set(methodPath(method), {
        service: desc,
        method,
        input: getCodec(method.input),
        output: getCodec(method.output),
        json: jsonOf(method),
        stream,
        invoke: invoke as (req: unknown, call: ServerCall) => unknown,
      });
    }
    this.services.set(desc.typeName, { desc, hooks, internal: isInternalService(desc.typeName, internal) });
  }

  /** Names of the hosted services that are not internal. */
  publicServices(): string[] {
    const out: string[] = [];
    for (const s of this.services.values()) if (!s.internal) out.push(s.desc.typeName);
    return out;
  }

  lookup(path: string): ServerMethod | undefined {
    return this.methods.get(path);
  }

  /**
   * The error for a path lookup() did not find. Checked only here, off the hot
   * path: a hosted path is well-formed by construction, so only a miss needs to
   * tell a malformed name (invalid_argument) from an unknown one.
   */
  missing(path: string, nodeName: string): GomsError {
    if (!isWellFormedPath(path)) {
      return gomsError("GOMS_ERR_BAD_METHOD_NAME", { method: path });
    }
    const slash = path.indexOf("/");
    const service = slash < 0 ? path : path.slice(0, slash);
    const hosted = this.services.get(service);
    if (hosted === undefined) return new GomsError(`service ${service} is not hosted on node ${nodeName}`, Code.NotFound, { reason: "GOMS_ERR_UNKNOWN_SERVICE" });
    const name = path.slice(slash + 1);
    const known = hosted.desc.methods.some((m) => m.name === name);
    return known
      ? new GomsError(`${service}.${name} is not implemented on node ${nodeName}`, Code.Unimplemented, { reason: "GOMS_ERR_UNKNOWN_METHOD" })
      : new GomsError(`${service} has no method ${name}`, Code.Unimplemented, { reason: "GOMS_ERR_UNKNOWN_METHOD" });
  }

  /** Finds a hosted service by full or short (last segment) name. */
  find(name: string): DescService | undefined {
    const exact = this.services.get(name)?.desc;
    if (exact) return exact;
    for (const s of this.services.values()) if (s.desc.name === name) return s.desc;
    return undefined;
  }

  /** Files describing the given public services (all public ones for an empty filter), dependencies first, each once. */
  files(filter: readonly string[]): DescFile[] {
    const out: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile): void => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      for (const dep of f.dependencies) visit(dep);
      out.push(f);
    };
    for (const s of this.services.values()) {
      if (s.internal) continue;
      if (filter.length && !filter.includes(s.desc.typeName) && !filter.includes(s.desc.name)) continue;
      visit(s.desc.file);
    }
    return out;
  }
}

/** A wire method name: printable ASCII (0x21..0x7e) with exactly one '/'. */
function isWellFormedPath(path: string): boolean {
  let slashes = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
    if (c === 0x2f) slashes++;
  }
  return slashes === 1;
}

/** proto3 JSON of a method's input and output, for requests sent with the JSON payload codec. */
function jsonOf(method: DescMethod): ServerMethod["json"] {
  const input = getJsonCodec(method.input);
  const output = getJsonCodec(method.output);
  return {
    fromJson: (text) => input.fromJson(text),
    toJson: (res) => output.toJson(isMessage(res, method.output) ? res : create(method.output, res as never)),
  };
}
