import type { AsyncLocalStorage } from "node:async_hooks";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { HandlerContext } from "../internal/conn/context.js";
import { CallRequest } from "./call-request.js";
import { resolveCallOptions } from "./call-options.js";
import type { CallRouter } from "./call-router.js";
import { routedMethod, type RoutedMethod } from "./client-method.js";
import { composeClient } from "./interceptors.js";
import { withTrailer } from "./stream-results.js";
import type { CallOptions, CallResult, Interceptor, UnaryFn, UnaryRequest, UnaryResponse } from "./types.js";

export interface CallerOptions {
  readonly router: CallRouter;
  readonly interceptors: readonly Interceptor[];
  readonly defaultTimeoutMs: number;
  /** The handler context of the call being served, for implicit nested-call inheritance. */
  readonly als: AsyncLocalStorage<HandlerContext> | undefined;
  /** Undefined while the node takes calls, else why it does not. */
  notRunning(): GomsError | undefined;
}

/** What a one-way call's interceptors see as its response. */
const ONE_WAY_RESPONSE: UnaryResponse = Object.freeze({ message: undefined, ret: 0, metadata: Object.freeze({}) });

/**
 * The one outbound call pipeline. Every call a node makes enters here, whoever
 * made it (typed, detailed, one-way, broadcast, rawCall, gateway, admin, CLI)
 * and wherever it goes (in-process, pinned, load-balanced):
 *   1. the method was resolved to its descriptor by the caller (RoutedMethod);
 *   2. call options are resolved: defaults, the parent's deadline, signal and
 *      metadata (explicit `parent`, or the handler being served);
 *   3. the client interceptors run, once, in the order given;
 *   4. the CallRouter sends it in-process or to a connection, retrying
 *      idempotent calls elsewhere.
 */
export class Caller {
  private readonly chain: UnaryFn | undefined;

  constructor(private readonly o: CallerOptions) {
    if (o.interceptors.length > 0) {
      const base: UnaryFn = (req) => this.base(req);
      this.chain = composeClient(o.interceptors, base);
    }
  }

  /**
   * Makes a call. Resolves with the response message, or with the whole
   * CallResult when `full`; one-way calls resolve with undefined once sent.
   */
  call(rm: RoutedMethod, message: unknown, options: CallOptions | undefined, oneWay: boolean, full: boolean): Promise<unknown> {
    const refused = this.o.notRunning();
    if (refused !== undefined) return Promise.reject(refused);
    const o = this.inherit(options);
    let req: CallRequest;
    if (o === undefined) {
      req = new CallRequest(rm, message, this.o.defaultTimeoutMs, undefined, undefined, undefined, undefined, undefined, oneWay);
    } else {
      try {
        const r = resolveCallOptions(o, this.o.defaultTimeoutMs);
        req = new CallRequest(rm, message, r.timeoutMs, r.metadata, r.signal, o.node, o.shardKey, o.retry, oneWay);
        req.hedge = r.hedge;
      } catch (e) {
        return Promise.reject(GomsError.from(e, Code.InvalidArgument));
      }
    }
    const onTrailer = options?.onTrailer;
    if (onTrailer !== undefined && !oneWay) return withTrailer(this.send(req, true), req.stream !== undefined, full, onTrailer);
    return this.send(req, full);
  }

  /** Through the interceptors (if any), then routing. */
  private send(req: CallRequest, full: boolean): Promise<unknown> {
    if (this.chain === undefined) return this.o.router.route(req, full);
    const p = this.chain(req);
    return full ? p : p.then((res) => res.message);
  }

  /** A call by descriptor (the gateway, admin and CLI): resolves with message, ret and metadata. */
  invoke(method: DescMethod, message: unknown, options: CallOptions | undefined): Promise<CallResult<unknown>> {
    return this.call(routedMethod(method), message, options, false, true) as Promise<CallResult<unknown>>;
  }

  /** Below the interceptors. An interceptor may pass on a request object of its own: it is re-created then. */
  private base(r: UnaryRequest): Promise<UnaryResponse> {
    let req: CallRequest;
    if (r instanceof CallRequest) req = r;
    else {
      req = new CallRequest(routedMethod(r.method, r.raw), r.message, r.timeoutMs, r.metadata, r.signal, r.node, r.shardKey, r.retry, r.oneWay);
      req.hedge = r.hedge;
    }
    const p = this.o.router.route(req, true) as Promise<UnaryResponse>;
    return req.oneWay ? p.then(() => ONE_WAY_RESPONSE) : p;
  }

  /** Inside a handler, calls inherit its context unless they name a parent themselves. */
  private inherit(o: CallOptions | undefined): CallOptions | undefined {
    const als = this.o.als;
    if (als === undefined || o?.parent !== undefined) return o;
    const current = als.getStore();
    return current === undefined ? o : { ...o, parent: current };
  }
}
