import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";

/**
 * Where a peer stands for routing, as a circuit breaker:
 * - "closed": routable;
 * - "open": ejected, until its backoff period ends;
 * - "half-open": the backoff ended and one probe is on its way; still not
 *   routable until the probe answers.
 */
export type BreakerState = "closed" | "open" | "half-open";

/** Why a peer was last ejected. */
export type EjectReason = "consecutive-failures" | "error-rate" | "latency" | "stalled";

/** A peer's health as node.stats() shows it. */
export interface PeerHealthView {
  /** The peer's node name (or address before its HELLO). */
  node: string;
  state: BreakerState;
  /** Why it was last ejected, if it ever was. */
  reason: EjectReason | undefined;
  /** Times ejected since it was added. */
  ejections: number;
  /** When it was last ejected, epoch ms (undefined if never). */
  ejectedAt: number | undefined;
  /** Calls that reached an answer (any code but a node failure) since it was added. */
  answered: number;
  /** Calls that failed as the node's fault (see isNodeFailure) since it was added. */
  failed: number;
  /** Node failures in a row now. */
  consecutiveFailures: number;
  /** Smoothed latency of sampled answered calls, ms (undefined before the first sample). */
  latencyMs: number | undefined;
  /** Calls sent to it that have not settled yet. */
  outstanding: number;
}

/**
 * True when `err` says the node failed the call, rather than the call itself:
 * it did not answer in time (a local deadline), the connection failed, or it
 * stopped reading. An application error is an answer; a refusal
 * (resource_exhausted with the retry-elsewhere hint) or a draining node is a
 * busy or leaving node, not a broken one; a cancelled call says nothing.
 * Reasons do not travel, so a reason here was set on this side.
 */
export function isNodeFailure(err: GomsError): boolean {
  switch (err.code) {
    case Code.Unavailable:
      return err.reason !== "GOMS_ERR_NODE_DRAINING";
    case Code.DeadlineExceeded:
      return err.reason === "GOMS_ERR_DEADLINE_EXCEEDED";
    case Code.ResourceExhausted:
      return err.reason === "GOMS_ERR_PEER_NOT_READING";
    default:
      return false;
  }
}

/** What a record tells its detector. */
export interface HealthSink {
  /** `consecutiveFailures` in a row: the breaker trips (subject to the ejection cap). */
  tripped(h: PeerHealth): void;
  /** Its calls keep being answered by other nodes first, and it answered none for long: it hangs (subject to the cap). */
  stalled(h: PeerHealth): void;
}

/** How many events in a row make a peer's record tell its detector (0: never). */
export interface HealthLimits {
  /** Node failures in a row that trip the breaker. */
  consecutiveFailures: number;
  /** Calls in a row that lost to their hedge, with no answer of the peer between them ... */
  overtakenInRow: number;
  /** ... while it answered nothing for this many times the method's p99 (and at least MIN_SILENCE_MS). */
  overtakenP99Factor: number;
}

/**
 * The shortest silence that counts as a hang, ms: a process the machine did
 * not schedule for a time slice or two, or a GC pause, is not hung. 10 ms
 * ejected healthy nodes at 15-18k calls/s (a major GC of a db process), and
 * with 3 nodes one wrong ejection uses the whole ejection cap, so the hung
 * node could not be ejected until it came back. Hedges carry a hung node's
 * calls meanwhile; ejection only ends the need for them.
 */
export const MIN_SILENCE_MS = 100;

/**
 * A call waiting on a peer that another node could answer (an idempotent
 * call whose hedge was due but refused by the retry budget): when the peer
 * is ejected as hung, it goes elsewhere at once rather than waiting for its
 * deadline.
 */
export interface Strandable {
  rescue(): void;
}

/** Sampled latencies: one call in this many is timed. */
const SAMPLE_EVERY = 4;
/** Weight of a new latency sample in the smoothed latency. */
const ALPHA = 0.2;

/**
 * One peer's health record: what its calls did, and its breaker state. The
 * router tells it about every call it sends to the peer; the detector
 * (OutlierDetector) reads it, ejects and probes. `routable` is the one flag
 * routing reads.
 */
export class PeerHealth {
  state: BreakerState = "closed";
  reason: EjectReason | undefined = undefined;
  ejections = 0;
  /** Date.now() of the last ejection, 0 if never. */
  ejectedAt = 0;
  /** Ejections in the current run, for the growing backoff; decays while healthy. */
  streak = 0;
  /** performance.now() when the ejection ends; when the breaker last closed. */
  until = 0;
  closedAt = 0;
  answered = 0;
  failed = 0;
  /** Counts of the detector's current window. */
  winAnswered = 0;
  winFailed = 0;
  consecutive = 0;
  /** Calls that lost to their hedge since the peer last answered. */
  overtakenRun = 0;
  /** The silence after which those calls make it stalled, ms (from the last one's method p99; Infinity: none yet). */
  overtakenSilenceMs = Number.POSITIVE_INFINITY;
  outstanding = 0;
  /**
   * performance.now() of the last answer (-Infinity: none yet), and of the
   * moment calls started to be outstanding. performance.now() counts from the
   * process start, so 0 for "none yet" read as an answer at start: a test
   * that set busySince before it (test/rpc/outlier.test.ts) saw no stall when
   * it ran within stallMs of the process start, as it did on Node 24.
   */
  lastAnswerAt = Number.NEGATIVE_INFINITY;
  busySince = 0;
  latencyMs = Number.NaN;
  private tick = 0;
  /**
   * Calls waiting on this peer with their hedge refused (see Strandable): a
   * subset of the calls in flight on its connection, each in it at most
   * once, until it settles or is rescued; it holds no more than the call
   * table does.
   */
  private readonly stranded = new Set<Strandable>();

  /** Whether the peer is ejected as hung: its waiting calls will not be answered, and may go elsewhere outside the retry budget. */
  get hung(): boolean {
    return this.state !== "closed" && this.reason === "stalled";
  }

  /** `c` waits on this peer with nowhere to go for now; rescued if the peer is ejected as hung. */
  strand(c: Strandable): void {
    this.stranded.add(c);
  }

  /** `c` settled (or went elsewhere) before the peer was found hung. */
  unstrand(c: Strandable): void {
    this.stranded.delete(c);
  }

  /**
   * The detector ejected the peer as hung: every stranded call goes
   * elsewhere. On the next turn, not inside the call continuation (or the
   * sweep) that ejected it.
   */
  rescueStranded(): void {
    if (this.stranded.size === 0) return;
    const calls = [...this.stranded];
    this.stranded.clear();
    setImmediate(() => {
      for (const c of calls) c.rescue();
    });
  }

  /** Whether routing may pick this peer: only while the breaker is closed (open and half-open wait for a probe). */
  get routable(): boolean {
    return this.state === "closed";
  }

  constructor(
    readonly name: () => string,
    private readonly sink: HealthSink,
    private readonly limits: HealthLimits,
  ) {}

  /**
   * A call goes to the peer. Returns the performance.now() start when this
   * call is sampled for latency, else -1.
   */
  sent(): number {
    if (this.outstanding++ === 0) this.busySince = performance.now();
    return ++this.tick % SAMPLE_EVERY === 0 ? performance.now() : -1;
  }

  /** The call got an answer (a response of any code). Bound, so routing passes it without a closure. */
  readonly onAnswer = <T>(v: T): T => {
    this.answer(performance.now());
    return v;
  };

  /** The call failed: rethrows after recording it. */
  readonly onError = (e: unknown): never => {
    this.error(e);
    throw e;
  };

  /** A sampled call answered after `ms`. */
  sample(ms: number): void {
    this.latencyMs = Number.isNaN(this.latencyMs) ? ms : this.latencyMs + ALPHA * (ms - this.latencyMs);
  }

  error(e: unknown): void {
    const err = GomsError.from(e);
    if (err.code === Code.Canceled) {
      this.outstanding--;
      return;
    }
    if (!isNodeFailure(err)) {
      this.answer(performance.now());
      return;
    }
    this.outstanding--;
    this.failed++;
    this.winFailed++;
    const limit = this.limits.consecutiveFailures;
    if (++this.consecutive >= limit && limit > 0 && this.state === "closed") this.sink.tripped(this);
  }

  /**
   * A call sent to the peer lost to its hedge: another node answered it
   * first, after the method's hedge delay, while this one had not. When
   * `overtakenInRow` of them come in a row, with no answer of the peer between
   * them, and the peer has answered nothing for `overtakenP99Factor` times
   * the method's p99 (`p99Ms`, undefined before it is known), it stopped
   * answering while its siblings answer the same calls: it is ejected now,
   * not after `stallMs`. (The detector's sweep checks the same, for a peer
   * whose last overtaken call came before its silence was long enough.)
   */
  overtaken(p99Ms: number | undefined): void {
    this.outstanding--;
    const limit = this.limits.overtakenInRow;
    if (limit <= 0) return;
    this.overtakenRun++;
    if (p99Ms !== undefined) this.overtakenSilenceMs = Math.max(MIN_SILENCE_MS, this.limits.overtakenP99Factor * p99Ms);
    if (this.overtakenStalled(performance.now())) this.sink.stalled(this);
  }

  /** Whether calls overtaken by their hedges, and its silence, say the peer hangs (see overtaken()). */
  overtakenStalled(now: number): boolean {
    const limit = this.limits.overtakenInRow;
    return limit > 0 && this.state === "closed" && this.overtakenRun >= limit && this.silentFor(now) >= this.overtakenSilenceMs;
  }

  /** How long it has had calls outstanding and answered none, ms (0 with none outstanding). */
  silentFor(now: number): number {
    return this.outstanding > 0 ? now - Math.max(this.lastAnswerAt, this.busySince) : 0;
  }

  private answer(now: number): void {
    this.outstanding--;
    this.answered++;
    this.winAnswered++;
    this.consecutive = 0;
    this.overtakenRun = 0;
    this.lastAnswerAt = now;
  }

  view(): PeerHealthView {
    return {
      node: this.name(),
      state: this.state,
      reason: this.reason,
      ejections: this.ejections,
      ejectedAt: this.ejectedAt === 0 ? undefined : this.ejectedAt,
      answered: this.answered,
      failed: this.failed,
      consecutiveFailures: this.consecutive,
      latencyMs: Number.isNaN(this.latencyMs) ? undefined : Math.round(this.latencyMs * 100) / 100,
      outstanding: this.outstanding,
    };
  }
}
