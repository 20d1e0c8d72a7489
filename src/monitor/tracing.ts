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
import { Code, codeToString } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { HandlerContext } from "../internal/conn/context.js";
import type { HandlerFn, Interceptor, ServerInterceptor, UnaryFn, UnaryRequest, UnaryResponse } from "../rpc/types.js";
import { DEFAULT_MAX_MESSAGE_EVENTS, MessageEvents, tracedMessages } from "./stream-span.js";

export { setupTracing, type TracingOptions, type TracingHandle } from "./tracing-setup.js";

export interface TracingInterceptorOptions {
  /** Instrumentation scope name given to the tracer. Default "goms". */
  tracerName?: string;
  /**
   * A stream is one span with a "message" event per message sent or
   * received, up to this many per span (default 32); the rest are counted in
   * the goms.stream.* attributes only.
   */
  maxMessageEvents?: number;
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

/** `ret`: the handler's ctx.ret, which an error without a ret of its own carries to the caller. */
function endError(span: Span, e: unknown, ret = 0): void {
  const g = GomsError.from(e);
  span.setAttribute("goms.code", codeToString(g.code));
  if ((g.ret || ret) !== 0) span.setAttribute("goms.ret", g.ret || ret);
  span.setStatus({ code: SpanStatusCode.ERROR, message: g.rawMessage });
  span.end();
}

/**
 * A client stream's span: a SENT event per request message, a RECEIVED event
 * per response the caller takes, ended once with the stream's status however
 * the stream ends: the caller reads it to its end or stops reading (canceled),
 * or the stream ends under a caller that is not reading it (`res.ended`): the
 * server ended it (OK, or its error), the caller's signal aborted, the
 * deadline passed, or the connection was lost (unavailable). Responses still
 * buffered then, unread, have no event. An interceptor further out sees the
 * same response object, whose ret and metadata the stream's end fills in.
 */
function clientStream(span: Span, ctx: Context, req: UnaryRequest, next: UnaryFn, maxEvents: number): Promise<UnaryResponse> {
  const ev = new MessageEvents(span, maxEvents);
  const done = (err: unknown, ret: number): void => {
    ev.totals();
    if (err === undefined) endOk(span, ret);
    else endError(span, err);
  };
  if (req.stream === "server_streaming") ev.add("SENT");
  else req.message = tracedMessages(req.message as AsyncIterable<unknown>, "SENT", ev, ctx);
  return context.with(ctx, () => next(req)).then(
    (res) => {
      res.message = tracedMessages(res.message as AsyncIterable<unknown>, "RECEIVED", ev, ctx, (err) => done(err, res.ret), res.ended);
      return res;
    },
    (e: unknown) => {
      done(e, 0);
      throw e;
    },
  );
}

/**
 * A served stream's span: RECEIVED events for the request message(s), SENT
 * events for what the handler yields (or the one response of a client
 * stream), active while the handler runs, including between its yields.
 * Ended when the handler is done, or when the stream is stopped under it
 * (cancel, deadline, connection lost: ctx.signal).
 */
function serverStream(span: Span, spanCtx: Context, request: unknown, ctx: HandlerContext, next: HandlerFn, maxEvents: number): unknown {
  const ev = new MessageEvents(span, maxEvents);
  let ended = false;
  const done = (err: unknown): void => {
    if (ended) return;
    ended = true;
    ev.totals();
    if (err === undefined) endOk(span, ctx.ret);
    else endError(span, err, ctx.ret);
  };
  ctx.signal.addEventListener("abort", () => done(ctx.signal.reason), { once: true });
  const kind = ctx.method.methodKind;
  let input = request;
  if (kind === "server_streaming") ev.add("RECEIVED");
  else input = tracedMessages(request as AsyncIterable<unknown>, "RECEIVED", ev, spanCtx);
  let out: unknown;
  try {
    out = context.with(spanCtx, () => next(input, ctx));
  } catch (e) {
    done(e);
    throw e;
  }
  return Promise.resolve(out).then(
    (res) => {
      if (kind === "client_streaming") {
        ev.add("SENT");
        done(undefined);
        return res;
      }
      if (res === null || typeof res !== "object" || !(Symbol.asyncIterator in res || Symbol.iterator in res)) {
        // Not a stream: the stream driver refuses it, with the error the span gets too.
        done(new GomsError(`${ctx.method.name} handler must return or yield an iterable`, Code.Internal));
        return res;
      }
      return tracedMessages(res as AsyncIterable<unknown>, "SENT", ev, spanCtx, done);
    },
    (e: unknown) => {
      done(e);
      throw e;
    },
  );
}

/**
 * Client interceptor: starts a CLIENT span (child of the active span) for each
 * call and sends its context in the `traceparent`/`tracestate` metadata (W3C
 * Trace Context). Uses the global OpenTelemetry tracer provider: without a
 * registered provider and without an active span it only passes the call on.
 */
export function tracingClientInterceptor(opts: TracingInterceptorOptions = {}): Interceptor {
  const tracer = trace.getTracer(opts.tracerName ?? "goms");
  const maxEvents = opts.maxMessageEvents ?? DEFAULT_MAX_MESSAGE_EVENTS;
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
    if (req.stream !== undefined) return clientStream(span, ctx, req, next, maxEvents);
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
  const maxEvents = opts.maxMessageEvents ?? DEFAULT_MAX_MESSAGE_EVENTS;
  return (next) => (request: unknown, ctx: HandlerContext) => {
    const md = ctx.metadata;
    const parent: Context = md["traceparent"] === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, md, defaultTextMapGetter);
    const service = ctx.service.typeName;
    const method = ctx.method.name;
    const attrs = attributes(service, method);
    if (ctx.peer.node !== undefined) attrs["goms.peer.node"] = ctx.peer.node.name;
    const span = tracer.startSpan(spanName(service, method), { kind: SpanKind.SERVER, attributes: attrs }, parent);
    if (!span.isRecording()) return parent === ROOT_CONTEXT ? next(request, ctx) : context.with(trace.setSpan(parent, span), () => next(request, ctx));
    if (ctx.method.methodKind !== "unary") return serverStream(span, trace.setSpan(parent, span), request, ctx, next, maxEvents);
    let out: unknown;
    try {
      out = context.with(trace.setSpan(parent, span), () => next(request, ctx));
    } catch (e) {
      endError(span, e, ctx.ret);
      throw e;
    }
    if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
      return (out as PromiseLike<unknown>).then(
        (res) => {
          endOk(span, ctx.ret);
          return res;
        },
        (e: unknown) => {
          endError(span, e, ctx.ret);
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
