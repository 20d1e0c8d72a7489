import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { MonitorService } from "../gen/goms/v1/monitor_pb.js";
import type { GomsNode } from "../rpc/node.js";
import type { Client } from "../rpc/types.js";
import { createCollector, type Collector } from "./collector.js";

export interface MonitoringOptions {
  /**
   * The node whose stats are pushed, over its own connections. The node
   * hosting MonitorService requires a token (or mTLS): give this node
   * `auth: { peerToken }` (or `token`) set to it. Pushes describe this node
   * only; the receiver refuses stats about any other identity.
   */
  node: GomsNode;
  /** Push period in ms. Default 5000. The admin may change it (PushResponse.interval_ms). */
  intervalMs?: number;
  /** Push to this node (by name) instead of any node hosting goms.v1.MonitorService. */
  target?: string;
  /** Use this collector instead of creating one (it is not closed by close()). */
  collector?: Collector;
}

export interface PushCounters {
  pushes: number;
  failures: number;
  /** Message of the last failure, for diagnostics. */
  lastError: string | undefined;
}

const MIN_INTERVAL_MS = 100;

/**
 * Pushes collector snapshots to goms.v1.MonitorService/Push every interval:
 * routed like any call (registry/peers, load-balanced) or pinned to `target`.
 * Failures are counted, never thrown or logged. The timer does not keep the
 * process alive. Create with createMonitoring(); start() arms the timer.
 */
export class Monitoring {
  readonly collector: Collector;
  private readonly ownsCollector: boolean;
  private readonly node: GomsNode;
  private readonly monitor: Client<typeof MonitorService>;
  private readonly target: string | undefined;
  private period: number;
  private readonly pushes: PushCounters = { pushes: 0, failures: 0, lastError: undefined };
  private timer: NodeJS.Timeout | undefined;
  private state: "new" | "running" | "closed" = "new";
  private ticking = false;
  private inFlight: Promise<boolean> | undefined;

  constructor(opts: MonitoringOptions) {
    this.collector = opts.collector ?? createCollector({ node: opts.node });
    this.ownsCollector = opts.collector === undefined;
    this.node = opts.node;
    this.monitor = opts.node.client(MonitorService);
    this.target = opts.target;
    this.period = Math.max(MIN_INTERVAL_MS, opts.intervalMs ?? 5000);
  }

  /** Current push period (ms). */
  get intervalMs(): number {
    return this.period;
  }

  counters(): PushCounters {
    return { ...this.pushes };
  }

  /** Arms the push timer (the first push is one interval away). */
  start(): Promise<this> {
    if (this.state !== "new") return Promise.reject(new GomsError(`monitoring was already ${this.state === "running" ? "started" : "closed"}`, Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" }));
    this.state = "running";
    this.schedule();
    return Promise.resolve(this);
  }

  /** Pushes one snapshot now (also what the timer does); never rejects. */
  pushNow(): Promise<boolean> {
    const p = this.push();
    this.inFlight = p;
    return p;
  }

  /**
   * Stops the timer, waits up to `graceMs` (default 0) for a push in flight,
   * and closes the collector unless it was passed in.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.timer);
    this.timer = undefined;
    const graceMs = options.graceMs ?? 0;
    if (this.inFlight !== undefined && graceMs > 0) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.inFlight, new Promise((resolve) => (t = setTimeout(resolve, graceMs)))]);
      clearTimeout(t);
    }
    if (this.ownsCollector) this.collector.close();
  }

  private async push(): Promise<boolean> {
    try {
      const stats = this.collector.snapshot();
      const res = await this.monitor.push({ stats }, { timeoutMs: Math.min(this.period, 5000), node: this.target, retry: true });
      this.pushes.pushes++;
      const asked = res.intervalMs > 0 ? Math.max(MIN_INTERVAL_MS, res.intervalMs) : this.period;
      if (asked !== this.period) {
        this.period = asked;
        // A push outside the timer changed the period: re-arm the pending timer with it.
        if (!this.ticking) this.schedule();
      }
      return true;
    } catch (e) {
      this.pushes.failures++;
      this.pushes.lastError = this.explain(e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  /** A push that found no node often means the admin node refused our HELLO: say so. */
  private explain(message: string): string {
    const refused = this.node.peerList().find((p) => p.state !== "ready" && p.lastError?.code === Code.Unauthenticated);
    if (refused === undefined) return message;
    return `${message} (${refused.name || refused.address} refused this node: ${refused.lastError!.rawMessage}; set auth.peerToken to its token)`;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== "running") return;
    this.timer = setTimeout(() => {
      this.ticking = true;
      void this.pushNow().then(() => {
        this.ticking = false;
        this.schedule();
      });
    }, this.period);
    this.timer.unref();
  }
}

/** Creates the pusher for a node; call start(). */
export function createMonitoring(opts: MonitoringOptions): Monitoring {
  return new Monitoring(opts);
}
