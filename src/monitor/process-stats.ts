import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type IntervalHistogram } from "node:perf_hooks";

/** Process figures over one interval (plus current memory). */
export interface ProcessSample {
  /** CPU time (user + system) over wall time, in percent of one core. */
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  eventLoopLagP99Ms: number;
  /** 0..1 */
  eventLoopUtilization: number;
  gcCount: number;
  gcPauseMs: number;
}

/**
 * Samples the process: CPU and event-loop utilisation are deltas since the
 * previous sample(); event-loop delay and GC are collected in between.
 */
export class ProcessSampler {
  private cpu = process.cpuUsage();
  private wall = performance.now();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly delay: IntervalHistogram;
  private gcCount = 0;
  private gcPauseMs = 0;
  private readonly gc: PerformanceObserver | undefined;

  constructor() {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    let gc: PerformanceObserver | undefined;
    try {
      gc = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          this.gcCount++;
          this.gcPauseMs += e.duration;
        }
      });
      gc.observe({ entryTypes: ["gc"] });
    } catch {
      gc = undefined;
    }
    this.gc = gc;
  }

  sample(): ProcessSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.cpu);
    const wallMs = now - this.wall;
    const elu = performance.eventLoopUtilization(this.elu);
    const mem = process.memoryUsage();
    const lagNs = this.delay.count > 0 ? this.delay.percentile(99) : 0;
    const s: ProcessSample = {
      cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      // The histogram measures timer delay including its own resolution.
      eventLoopLagP99Ms: Math.max(0, lagNs / 1e6 - 10),
      eventLoopUtilization: elu.utilization,
      gcCount: this.gcCount,
      gcPauseMs: this.gcPauseMs,
    };
    this.cpu = process.cpuUsage();
    this.wall = now;
    this.elu = performance.eventLoopUtilization();
    this.delay.reset();
    this.gcCount = 0;
    this.gcPauseMs = 0;
    return s;
  }

  close(): void {
    this.delay.disable();
    this.gc?.disconnect();
  }
}
