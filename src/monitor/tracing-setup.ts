import { context, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { AlsContextManager } from "./otel-context.js";

export interface TracingOptions {
  /** service.name of the resource. */
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. Without it spans go only to `spanProcessors`. */
  otlpUrl?: string;
  /** Extra span processors (e.g. SimpleSpanProcessor(new InMemorySpanExporter()) in tests). */
  spanProcessors?: SpanProcessor[];
}

export interface TracingHandle {
  /** True when this call registered the global provider (false: one was already registered). */
  readonly registered: boolean;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers a BasicTracerProvider as the global OpenTelemetry tracer provider,
 * with an OTLP/HTTP exporter (batched) when otlpUrl is set, an
 * AsyncLocalStorage context manager and the W3C Trace Context propagator.
 * The SDK is loaded only when this is called.
 */
export async function setupTracing(opts: TracingOptions): Promise<TracingHandle> {
  const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
  if (opts.otlpUrl !== undefined) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpUrl })));
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": opts.serviceName }),
    spanProcessors: processors,
  });
  const registered = trace.setGlobalTracerProvider(provider);
  if (registered) {
    context.setGlobalContextManager(new AlsContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  return {
    registered,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      if (registered) {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
