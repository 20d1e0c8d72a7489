import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { codeToString, type Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { HandlerContext } from "../internal/conn/context.js";
import type { Interceptor, ServerInterceptor } from "../rpc/types.js";

export { setupTracing, type TracingOptions, type TracingHandle } from "./tracing-setup.js";

export interface TracingInterceptorOptions {
  /** Instrumentation scope name given to the tracer. Default "goms". */
  tracerName?: string;
}

const propagator = new W3CTraceContextPropagator();

function spanName(service: string, method: string): string {
  return `${service}/${method}`;
}

function attributes(service: string, method: string): Attributes {
  return { "rpc.system": "goms", "rpc.service": service, "rpc.method": method };
}

function endOk(span: Span, ret: number): void {
  if (ret !== 0) span.setAttribute("goms.ret", ret);
  span.end();
}

function endError(span: Span, e: unknown): void {
  const g = GomsError.from(e);
  span.setAttribute("goms.code", codeToString(g.code as Code));
  if (g.ret !== 0) span.setAttribute("goms.ret", g.ret);
  span.setStatus({ code: SpanStatusCode.ERROR, message: g.rawMessage });
  span.end();
}

/**
 * Client interceptor: starts a CLIENT span (child of the active span) for each
 * call and sends its context in the `traceparent`/`tracestate` metadata (W3C
 * Trace Context). Uses the global OpenTelemetry tracer provider: without a
 * registered provider and without an active span it only passes the call on.
 */
export function tracingClientInterceptor(opts: TracingInterceptorOptions = {}): Interceptor {
  const tracer = trace.getTracer(opts.tracerName ?? "goms");
  return (next) => (req) => {
    const parent = context.active();
    const service = req.service.typeName;
    const method = req.method.name;
    const span = tracer.startSpan(spanName(service, method), { kind: SpanKind.CLIENT, attributes: attributes(service, method) }, parent);
    if (!span.isRecording() && trace.getSpan(parent) === undefined) return next(req);
    const ctx = trace.setSpan(parent, span);
    const md: Record<string, string> = { ...req.metadata };
    propagator.inject(ctx, md, defaultTextMapSetter);
    req.metadata = md;
    return context.with(ctx, () => next(req)).then(
      (res) => {
        endOk(span, res.ret);
        return res;
      },
      (e: unknown) => {
        endError(span, e);
        throw e;
      },
    );
  };
}

/**
 * Server interceptor: continues the caller's trace from the `traceparent`
 * metadata with a SERVER span, active while the handler runs (so nested calls
 * through tracingClientInterceptor become its children; that needs a context
 * manager, which setupTracing registers).
 */
export function tracingServerInterceptor(opts: TracingInterceptorOptions = {}): ServerInterceptor {
  const tracer = trace.getTracer(opts.tracerName ?? "goms");
  return (next) => (request: unknown, ctx: HandlerContext) => {
    const md = ctx.metadata;
    const parent: Context = md["traceparent"] === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, md, defaultTextMapGetter);
    const service = ctx.service.typeName;
    const method = ctx.method.name;
    const attrs = attributes(service, method);
    if (ctx.peer.node !== undefined) attrs["goms.peer.node"] = ctx.peer.node.name;
    const span = tracer.startSpan(spanName(service, method), { kind: SpanKind.SERVER, attributes: attrs }, parent);
    if (!span.isRecording()) return parent === ROOT_CONTEXT ? next(request, ctx) : context.with(trace.setSpan(parent, span), () => next(request, ctx));
    let out: unknown;
    try {
      out = context.with(trace.setSpan(parent, span), () => next(request, ctx));
    } catch (e) {
      endError(span, e);
      throw e;
    }
    if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
      return (out as PromiseLike<unknown>).then(
        (res) => {
          endOk(span, ctx.ret);
          return res;
        },
        (e: unknown) => {
          endError(span, e);
          throw e;
        },
      );
    }
    endOk(span, ctx.ret);
    return out;
  };
}

/** Both interceptors, for NodeOptions: `{ interceptors: [t.client], serverInterceptors: [t.server] }`. */
export function tracingInterceptors(opts: TracingInterceptorOptions = {}): { client: Interceptor; server: ServerInterceptor } {
  return { client: tracingClientInterceptor(opts), server: tracingServerInterceptor(opts) };
}
