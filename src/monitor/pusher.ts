import { MonitorService } from "../gen/goms/v1/monitor_pb.js";
import type { GomsNode } from "../rpc/node.js";
import { createCollector, type Collector } from "./collector.js";

export interface MonitoringOptions {
  node: GomsNode;
  /** Push period in ms. Default 5000. The admin may change it (PushResponse.interval_ms). */
  intervalMs?: number;
  /** Push to this node (by name) instead of any node hosting goms.v1.MonitorService. */
  target?: string;
  /** Use this collector instead of creating one (it is not closed by stop()). */
  collector?: Collector;
}

export interface PushCounters {
  pushes: number;
  failures: number;
  /** Message of the last failure, for diagnostics. */
  lastError: string | undefined;
}

export interface Monitoring {
  readonly collector: Collector;
  /** Current push period (ms). */
  readonly intervalMs: number;
  counters(): PushCounters;
  /** Pushes one snapshot now (also what the timer does); never rejects. */
  pushNow(): Promise<boolean>;
  stop(): void;
}

const MIN_INTERVAL_MS = 100;

/**
 * Pushes collector snapshots to goms.v1.MonitorService/Push every interval:
 * routed like any call (registry/peers, load-balanced) or pinned to `target`.
 * Failures are counted, never thrown or logged. The timer does not keep the
 * process alive.
 */
export function startMonitoring(opts: MonitoringOptions): Monitoring {
  const { node, target } = opts;
  const collector = opts.collector ?? createCollector({ node });
  const ownsCollector = opts.collector === undefined;
  const monitor = node.client(MonitorService);
  let intervalMs = Math.max(MIN_INTERVAL_MS, opts.intervalMs ?? 5000);
  const counters: PushCounters = { pushes: 0, failures: 0, lastError: undefined };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking = false;

  const pushNow = async (): Promise<boolean> => {
    try {
      const stats = collector.snapshot();
      const res = await monitor.push({ stats }, { timeoutMs: Math.min(intervalMs, 5000), node: target, retry: true });
      counters.pushes++;
      const asked = res.intervalMs > 0 ? Math.max(MIN_INTERVAL_MS, res.intervalMs) : intervalMs;
      if (asked !== intervalMs) {
        intervalMs = asked;
        // A push outside the timer changed the period: re-arm the pending timer with it.
        if (!ticking) schedule();
      }
      return true;
    } catch (e) {
      counters.failures++;
      counters.lastError = e instanceof Error ? e.message : String(e);
      return false;
    }
  };
  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    timer = setTimeout(() => {
      ticking = true;
      void pushNow().then(() => {
        ticking = false;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  }
  schedule();

  return {
    collector,
    get intervalMs() {
      return intervalMs;
    },
    counters: () => ({ ...counters }),
    pushNow,
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (ownsCollector) collector.close();
    },
  };
}
