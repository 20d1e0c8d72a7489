import type { IncomingMessage } from "node:http";
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

  start(req: IncomingMessage, route: Route, md: Metadata): GatewaySpan {
    const parent: Context = req.headers.traceparent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const service = route.entry.service.typeName;
    const span = this.tracer.startSpan(
      `POST ${service}/${route.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": "POST", "url.path": req.url ?? "", "rpc.system": "goms", "rpc.service": service, "rpc.method": route.method.name },
      },
      parent,
    );
    if (!span.isRecording()) {
      // No tracer provider: still pass an incoming trace on unchanged.
      if (parent !== ROOT_CONTEXT) this.propagator.inject(parent, md, defaultTextMapSetter);
      return NOOP;
    }
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
