import { PeerHealth, type EjectReason, type PeerHealthView } from "./peer-health.js";

/** Outlier ejection and the per-peer circuit breaker (docs/resilience.md). */
export interface OutlierOptions {
  /** Node failures in a row that open a peer's breaker (eject it at once). Default 5; 0 turns the breaker off. */
  consecutiveFailures: number;
  /** How often peers are compared and ejection periods checked, ms. Default 100. */
  intervalMs: number;
  /** Error-rate counts are compared over windows of this length, ms. Default 1000. */
  windowMs: number;
  /** A peer whose share of node failures in a window reaches this ... Default 0.5; 0 turns it off. */
  failureShare: number;
  /** ... out of at least this many calls, while the other peers together fail at most half as often, is ejected. Default 10. */
  minCalls: number;
  /** A peer whose smoothed latency is this many times the median of the others' ... Default 5; 0 turns it off. */
  latencyFactor: number;
  /** ... and at least this many ms above it, is ejected. Default 100. */
  latencyMinMs: number;
  /**
   * A peer with calls outstanding that answered none for this long (or for 4
   * times its own smoothed latency, if longer), while another peer answered
   * within that time, is ejected: a hung node. Default 750; 0 turns it off.
   */
  stallMs: number;
  /**
   * A peer whose calls lost to their hedge this many times in a row (another
   * node answered each first, after the method's hedge delay), with no answer
   * of its own between them ... Default 3; 0 turns it off. Needs hedged calls
   * (idempotent methods); without them, `stallMs` alone finds a hung peer.
   */
  overtakenInRow: number;
  /**
   * ... while it answered nothing for this many times the method's observed
   * p99 (at least 10 ms), is ejected at once, as stalled: a hung node is
   * caught within a few p99 instead of `stallMs`. Default 3.
   */
  overtakenP99Factor: number;
  /** The first ejection lasts this long, ms; each ejection in a row adds as much again. Default 1000. */
  baseEjectionMs: number;
  /** No ejection lasts longer, ms. Default 30000. */
  maxEjectionMs: number;
  /** At most this share of the ready peers is ejected at once (rounded down; never the last one). Default 0.5. */
  maxEjectedShare: number;
  /** How long a probe (a NodeService.Ping) may take before it counts as failed, ms. Default 1000. */
  probeTimeoutMs: number;
}

export const defaultOutlierOptions: OutlierOptions = {
  consecutiveFailures: 5,
  intervalMs: 100,
  windowMs: 1000,
  failureShare: 0.5,
  minCalls: 10,
  latencyFactor: 5,
  latencyMinMs: 100,
  stallMs: 750,
  overtakenInRow: 3,
  overtakenP99Factor: 3,
  baseEjectionMs: 1000,
  maxEjectionMs: 30_000,
  maxEjectedShare: 0.5,
  probeTimeoutMs: 1000,
};

/** What the detector needs from the routing table. */
export interface OutlierHooks {
  /** How many tracked peers are ready now (the base of the ejection cap). */
  ready(): number;
  /** Sends one probe to the peer of `h`; resolves true when it answered within `timeoutMs`. */
  probe(h: PeerHealth, timeoutMs: number): Promise<boolean>;
}

/** Counters of the detector since start. */
export interface OutlierStats {
  /** Peers ejected now (open or half-open). */
  ejectedNow: number;
  /** Ejections since start. */
  ejections: number;
  /** Ejections the cap prevented since start. */
  capped: number;
  /** Probes sent, and those that failed, since start. */
  probes: number;
  probesFailed: number;
  peers: PeerHealthView[];
}

/**
 * The one place that decides whether a peer is routable. It holds a health
 * record per peer, opens a peer's breaker after consecutive failures, and
 * every `intervalMs` compares the peers: a peer whose error rate or latency
 * stands out, or that stopped answering while the others answer, is ejected
 * for a growing backoff period; when the period ends, one probe decides
 * whether it comes back (half-open). Off (`false` options), every peer stays routable.
 */
export class OutlierDetector {
  private readonly records = new Set<PeerHealth>();
  private timer: NodeJS.Timeout | undefined;
  private windowStart = performance.now();
  private ejections = 0;
  private capped = 0;
  private probes = 0;
  private probesFailed = 0;
  readonly opts: OutlierOptions | undefined;

  constructor(
    opts: OutlierOptions | undefined,
    private readonly hooks: OutlierHooks,
  ) {
    this.opts = opts;
  }

  /** A new record for a peer; tracked until untrack(). */
  track(name: () => string): PeerHealth {
    const sink = {
      tripped: (r: PeerHealth) => this.eject(r, "consecutive-failures", performance.now()),
      stalled: (r: PeerHealth) => this.eject(r, "stalled", performance.now()),
    };
    const h = new PeerHealth(name, sink, {
      consecutiveFailures: this.opts?.consecutiveFailures ?? 0,
      overtakenInRow: this.opts?.overtakenInRow ?? 0,
      overtakenP99Factor: this.opts?.overtakenP99Factor ?? 0,
    });
    this.records.add(h);
    if (this.opts !== undefined && this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(performance.now()), this.opts.intervalMs);
      this.timer.unref();
    }
    return h;
  }

  untrack(h: PeerHealth): void {
    this.records.delete(h);
  }

  /** Stops the timer (the node is closing). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  stats(): OutlierStats {
    let ejectedNow = 0;
    const peers: PeerHealthView[] = [];
    for (const h of this.records) {
      if (h.state !== "closed") ejectedNow++;
      peers.push(h.view());
    }
    return { ejectedNow, ejections: this.ejections, capped: this.capped, probes: this.probes, probesFailed: this.probesFailed, peers };
  }

  /** Ejects `h` unless the cap forbids it. Returns whether it did. */
  eject(h: PeerHealth, reason: EjectReason, now: number): boolean {
    const o = this.opts;
    if (o === undefined || h.state !== "closed") return false;
    let ejected = 0;
    for (const r of this.records) if (r.state !== "closed") ejected++;
    const ready = this.hooks.ready();
    const allowed = Math.min(Math.floor(o.maxEjectedShare * ready), ready - 1);
    if (ejected + 1 > allowed) {
      this.capped++;
      return false;
    }
    this.ejections++;
    h.ejections++;
    h.ejectedAt = Date.now();
    h.streak++;
    h.state = "open";
    h.reason = reason;
    h.until = now + Math.min(o.baseEjectionMs * h.streak, o.maxEjectionMs);
    if (reason === "stalled") h.rescueStranded();
    return true;
  }

  /** One pass: end ejection periods (probe), decay streaks, find outliers. Exposed for tests with a fake clock. */
  sweep(now: number): void {
    const o = this.opts;
    if (o === undefined) return;
    for (const h of this.records) {
      if (h.state === "open" && now >= h.until) this.probe(h);
      else if (h.state === "closed" && h.streak > 0 && now - h.closedAt >= o.maxEjectionMs) {
        h.streak--;
        h.closedAt = now;
      }
    }
    this.findStalled(now, o);
    if (now - this.windowStart >= o.windowMs) {
      this.findOutliers(now, o);
      this.windowStart = now;
      for (const h of this.records) h.winAnswered = h.winFailed = 0;
    }
  }

  private probe(h: PeerHealth): void {
    const o = this.opts!;
    h.state = "half-open";
    this.probes++;
    void this.hooks.probe(h, o.probeTimeoutMs).then(
      (ok) => this.probed(h, ok),
      () => this.probed(h, false),
    );
  }

  private probed(h: PeerHealth, ok: boolean): void {
    if (!this.records.has(h) || h.state !== "half-open") return;
    const now = performance.now();
    if (!ok) {
      this.probesFailed++;
      h.streak++;
      h.state = "open";
      h.until = now + Math.min(this.opts!.baseEjectionMs * h.streak, this.opts!.maxEjectionMs);
      return;
    }
    h.state = "closed";
    h.consecutive = 0;
    h.overtakenRun = 0;
    h.overtakenSilenceMs = Number.POSITIVE_INFINITY;
    h.closedAt = now;
    h.lastAnswerAt = now;
    h.busySince = now;
    h.winAnswered = h.winFailed = 0;
    // Its latency before the ejection says nothing about the node now.
    h.latencyMs = Number.NaN;
  }

  /**
   * Peers with calls outstanding and no answer for long, while another peer
   * answers: for `stallMs` (or 4 x their own latency), or for a few of the
   * method's p99 with their calls overtaken by hedges (PeerHealth.overtaken()
   * ejects at once; this catches a peer whose last overtaken call came early).
   */
  private findStalled(now: number, o: OutlierOptions): void {
    for (const h of this.records) {
      if (h.state !== "closed" || h.outstanding <= 0) continue;
      let limit = o.stallMs > 0 ? Math.max(o.stallMs, Number.isNaN(h.latencyMs) ? 0 : 4 * h.latencyMs) : Number.POSITIVE_INFINITY;
      if (h.overtakenStalled(now)) limit = Math.min(limit, h.overtakenSilenceMs);
      if (h.silentFor(now) < limit) continue;
      // If nobody answered, this side may be what stalled (a blocked event loop): eject no one.
      let others = false;
      for (const r of this.records) if (r !== h && r.state === "closed" && now - r.lastAnswerAt < limit) others = true;
      if (others) this.eject(h, "stalled", now);
    }
  }

  /** Error rate and latency, each compared with the other peers'. */
  private findOutliers(now: number, o: OutlierOptions): void {
    if (o.failureShare > 0) {
      for (const h of this.records) {
        const n = h.winAnswered + h.winFailed;
        if (h.state !== "closed" || n < o.minCalls || h.winFailed / n < o.failureShare) continue;
        let answered = 0;
        let failed = 0;
        for (const r of this.records) {
          if (r === h) continue;
          answered += r.winAnswered;
          failed += r.winFailed;
        }
        const othersShare = answered + failed === 0 ? 1 : failed / (answered + failed);
        if (othersShare <= h.winFailed / n / 2) this.eject(h, "error-rate", now);
      }
    }
    if (o.latencyFactor > 0) {
      for (const h of this.records) {
        if (h.state !== "closed" || Number.isNaN(h.latencyMs)) continue;
        const others: number[] = [];
        for (const r of this.records) if (r !== h && r.state === "closed" && !Number.isNaN(r.latencyMs)) others.push(r.latencyMs);
        if (others.length === 0) continue;
        others.sort((a, b) => a - b);
        const median = others[others.length >> 1]!;
        if (h.latencyMs > o.latencyFactor * median && h.latencyMs - median >= o.latencyMinMs) this.eject(h, "latency", now);
      }
    }
  }
}
