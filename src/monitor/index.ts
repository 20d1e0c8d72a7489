export { createCollector, type Collector, type CollectorOptions } from "./collector.js";
export { createMonitoring, type Monitoring, type MonitoringOptions, type PushCounters } from "./pusher.js";
export { createMonitorStore, DEFAULT_MONITOR_LIMITS, type MonitorStore, type MonitorStoreLimits, type MonitorStoreOptions } from "./store.js";
export type { RegisteredIdentity } from "./push-identity.js";
export type { MonitorEvent, MonitorStoreView, NodeView, SeriesPoint } from "./store-types.js";
export { seriesPoint, mergedP99 } from "./series.js";
export { BUCKET_BOUNDS_MS, quantileFromBuckets } from "./buckets.js";
export type { MethodCounter } from "./method-counter.js";
export { createHealthServer, HealthServer, type HealthServerOptions } from "./health-server.js";
export { createMetrics, createMetricsServer, metricsHandler, type MetricsOptions, type MetricsServer, type MetricsServerOptions } from "./prometheus.js";
export {
  setupTracing,
  tracingClientInterceptor,
  tracingInterceptors,
  tracingServerInterceptor,
  type TracingHandle,
  type TracingInterceptorOptions,
  type TracingOptions,
} from "./tracing.js";
export { AlsContextManager } from "./otel-context.js";
export { MonitorService, type NodeStats, type MethodStats, type PushRequest, type PushResponse } from "../gen/goms/v1/monitor_pb.js";
