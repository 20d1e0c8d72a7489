/**
 * What "monitoring on" means in the overhead benchmark: collector + pusher
 * every 5 s (as in production) + a Prometheus registry scraped every 5 s.
 */
import type { GomsNode } from "../../../dist/rpc/index.js";
import { createCollector, createMetrics, createMonitoring } from "../../../dist/monitor/index.js";

/** True unless GOMS_BENCH_MONITOR=0 (the suite's "off" runs use the same code). */
export const monitoringOn = process.env["GOMS_BENCH_MONITOR"] !== "0";

export function enableMonitoring(node: GomsNode, target?: string): () => void {
  if (!monitoringOn) return () => undefined;
  const collector = createCollector({ node });
  const mon = createMonitoring({ node, collector, intervalMs: 5000, ...(target !== undefined ? { target } : {}) });
  void mon.start();
  const registry = createMetrics({ node, collector });
  const scrape = setInterval(() => void registry.metrics().catch(() => undefined), 5000);
  scrape.unref();
  return () => {
    clearInterval(scrape);
    void mon.close();
    collector.close();
  };
}
