import type { IncomingMessage } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { codeToString, GomsError, type Code } from "../errors/index.js";
import type { Route } from "../json-call/index.js";
import type { Metadata } from "../rpc/index.js";

/** The span of one gateway request. */
export interface GatewaySpan {
  /** Runs `fn` (the RPC) with this span active, so that client interceptors make their spans its children. */
  run<T>(fn: () => T): T;
  /** Ends the span: `status` is the HTTP status sent (0 when the request failed with `err`). */
  end(status: number, err: unknown): void;
}

const NOOP: GatewaySpan = { run: (fn) => fn(), end: () => undefined };
const SERVER = { kind: SpanKind.SERVER };

/**
 * A SERVER span per gateway request, through the OpenTelemetry API (a no-op
 * until the application registers a tracer provider, e.g. with goms/monitor's
 * setupTracing). An incoming W3C `traceparent` is continued, and the span's
 * own context is put in the RPC's metadata, so one trace runs from the HTTP
 * client through the gateway to the handler even when the gateway node has no
 * tracing client interceptor.
 */
export class GatewayTracing {
  private readonly tracer = trace.getTracer("goms-gateway");
  private readonly propagator = new W3CTraceContextPropagator();
  /** Span name per method, built once. */
  private readonly names = new WeakMap<DescMethod, string>();

  start(req: IncomingMessage, route: Route, md: Metadata): GatewaySpan {
    const parent: Context = req.headers.traceparent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    let name = this.names.get(route.method);
    if (name === undefined) this.names.set(route.method, (name = `POST ${route.path}`));
    // Attributes are set only on a recording span: without a tracer provider a request allocates next to nothing here.
    const span = this.tracer.startSpan(name, SERVER, parent);
    if (!span.isRecording()) {
      // No tracer provider: still pass an incoming trace on unchanged.
      if (parent !== ROOT_CONTEXT) this.propagator.inject(parent, md, defaultTextMapSetter);
      return NOOP;
    }
    span.setAttributes({ "http.request.method": "POST", "url.path": req.url ?? "", "rpc.system": "goms", "rpc.service": route.entry.service.typeName, "rpc.method": route.method.name });
    const ctx = trace.setSpan(parent, span);
    this.propagator.inject(ctx, md, defaultTextMapSetter);
    return {
      run: (fn) => context.with(ctx, fn),
      end: (status, err) => endSpan(span, status, err),
    };
  }
}

function endSpan(span: Span, status: number, err: unknown): void {
  if (err !== undefined) {
    const g = GomsError.from(err);
    span.setAttribute("goms.code", codeToString(g.code as Code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: g.rawMessage });
  } else {
    span.setAttribute("http.response.status_code", status);
  }
  span.end();
}
