import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { ClientConn } from "../internal/conn/client-conn.js";
import type { Strandable } from "../internal/health/peer-health.js";
import type { CallRequest } from "./call-request.js";
import type { Hedgeable, Hedger, MethodHedge } from "./hedge.js";
import type { Peer } from "./peer.js";
import type { PeerTable } from "./peer-table.js";
import { mayRetry, type RetryBudget } from "./retry-budget.js";

/** What a remote call needs from its router. */
export interface RemoteCallHost {
  readonly peers: PeerTable;
  readonly budget: RetryBudget;
  readonly hedger: Hedger;
  onRetry(): void;
}

/** The error a copy is cancelled with when the other copy answered first (identity-checked, never seen by callers). */
const LOST = new GomsError("the other copy of a hedged call answered first", Code.Canceled);

/**
 * Sends `req` on `conn` and returns the copy and its promise. A call refused
 * before it got an id (closed connection...) keeps id 0, which abandon() ignores:
 * the id it would have had belongs to the next call.
 */
function sendCopy(peer: Peer, req: CallRequest, timeoutMs: number, full: boolean): { copy: Copy; p: Promise<unknown> } {
  const conn = peer.conn!;
  // The id the call gets, so that this copy alone can be cancelled (conn.abandon sends its CANCEL).
  const id = conn.nextCallId;
  const p = conn.call(req, timeoutMs, full);
  const copy: Copy = { peer, conn, id: conn.nextCallId === id ? 0 : id, t0: peer.health.sent() };
  return { copy, p };
}

/** One copy of a call on the wire. */
interface Copy {
  peer: Peer;
  conn: ClientConn;
  id: number;
  /** performance.now() at send when sampled for latency, else -1. */
  t0: number;
}

/**
 * A load-balanced remote call that may be retried or hedged. It owns the one
 * continuation per attempt (`ok`/`err`), which feeds the peer's health record
 * and decides retries in the same step, and, once hedged, the race between
 * the two copies: the first answer wins and the other copy is cancelled on
 * its connection (a CANCEL frame). The caller's promise is the first copy's
 * chain; when the second copy wins, the first is cancelled with LOST and its
 * `err` returns the winner's value.
 */
export class RemoteCall implements Hedgeable, Strandable {
  due = 0;
  hedgeNext: Hedgeable | undefined = undefined;
  private primary!: Copy;
  private backup: Copy | undefined;
  /** The backup's chain, adopted by the caller's when the primary failed first. */
  private backupChain: Promise<unknown> | undefined;
  private hedged = false;
  /** Its hedge was refused and it waits in its first copy's peer's stranded set (PeerHealth.strand). */
  private stranded = false;
  private done = false;
  private primaryFailed = false;
  private value: unknown;
  private attempt = 1;
  private method: MethodHedge | undefined;
  /** The timer of a call with its own `hedge: { afterMs }` (the others wait in their method's queue). */
  private timer: NodeJS.Timeout | undefined;
  readonly ok = (v: unknown): unknown => this.onOk(v);
  readonly err = (e: unknown): unknown => this.onErr(e);

  constructor(
    private readonly host: RemoteCallHost,
    private readonly req: CallRequest,
    private readonly full: boolean,
    /** Date.now()-based deadline, or 0 for none. */
    private readonly deadline: number,
    private readonly idempotent: boolean,
    /**
     * A method declared idempotent, or a call with its own `hedge: { afterMs }`
     * (a `retry: true` call of another method is retried, never hedged).
     */
    private readonly hedgeable: boolean,
  ) {}

  /** Sends the first copy; `now` is Date.now(). Returns the caller's promise. */
  start(peer: Peer, timeoutMs: number, now: number): Promise<unknown> {
    const p = this.send(peer, timeoutMs);
    if (!this.hedgeable) return p;
    const m = (this.method = this.host.hedger.of(this.req.route));
    const own = this.req.hedge;
    const delay = typeof own === "object" ? own.afterMs : m.delay();
    if (delay === undefined || (this.deadline !== 0 && now + delay >= this.deadline)) return p;
    this.due = now + delay;
    if (typeof own !== "object") m.add(this);
    else {
      // A delay of its own would break its method queue's order: a timer for this call alone.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        setImmediate(() => this.hedgeDue());
      }, delay);
      this.timer.unref();
    }
    return p;
  }

  /** The call has its outcome: a hedge time that comes later finds nothing to do. */
  private finish(): void {
    this.done = true;
    this.unstrand();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private send(peer: Peer, timeoutMs: number): Promise<unknown> {
    const { copy, p } = sendCopy(peer, this.req, timeoutMs, this.full);
    this.primary = copy;
    return p.then(this.ok, this.err);
  }

  private onOk(v: unknown): unknown {
    this.answered(this.primary);
    if (this.done) return this.value;
    this.finish();
    const b = this.backup;
    if (b !== undefined) b.conn.abandon(b.id, LOST);
    return v;
  }

  private onErr(e: unknown): unknown {
    const c = this.primary;
    if (e === LOST) {
      const h = c.peer.health;
      // Counted only when the node answered some call since this copy was sent: a node that answers
      // nothing (a hung one) is not the method's latency, and counting its calls would raise the delay
      // with every hedge it needs, so that the next hedges go later and count higher still.
      if (c.t0 >= 0 && h.lastAnswerAt > c.t0) this.method?.observe(performance.now() - c.t0);
      h.overtaken(this.method?.p99());
      return this.value;
    }
    c.peer.health.error(e);
    if (this.done) return this.value;
    if (this.backup !== undefined) {
      this.primaryFailed = true;
      return this.backupChain;
    }
    return this.retryOrFail(e, c.peer);
  }

  private retryOrFail(e: unknown, failed: Peer): Promise<unknown> {
    try {
      return this.retry(e, failed);
    } catch (err) {
      this.finish();
      throw err;
    }
  }

  private answered(c: Copy): void {
    const h = c.peer.health;
    if (c.t0 >= 0) {
      const ms = performance.now() - c.t0;
      h.sample(ms);
      this.method?.observe(ms);
    }
    h.onAnswer(undefined);
  }

  /**
   * Retried on another node, within the retry budget and the deadline: a call
   * the node refused with the retry-elsewhere hint (no handler ran, so any
   * method may go elsewhere), and an idempotent call that failed unavailable.
   */
  private retry(err: unknown, failed: Peer): Promise<unknown> {
    const host = this.host;
    if (this.attempt > host.budget.opts.maxRetries || !mayRetry(err, this.idempotent)) throw err;
    if (this.req.signal?.aborted) throw err;
    const left = this.deadline === 0 ? 0 : this.deadline - Date.now();
    if (this.deadline !== 0 && left <= 0) throw err;
    const next = host.peers.pick(this.req.route.service, this.req.shardKey, failed);
    if (next === undefined || !host.budget.withdraw()) throw err;
    host.onRetry();
    this.unstrand();
    this.attempt++;
    this.backup = undefined;
    this.primaryFailed = false;
    return this.send(next, left);
  }

  /**
   * The hedge time came: a second copy to another routable node, if the call
   * still waits and the budget allows. A first copy on a node ejected as hung
   * goes elsewhere outside the budget: it will not be answered, so this is a
   * failover, not extra load. A call refused the budget waits stranded on its
   * peer, rescued (sent elsewhere) if that peer is ejected as hung later.
   */
  hedgeDue(): void {
    this.sendBackup(this.primary.peer.health.hung);
  }

  /**
   * Its first copy's node was ejected as hung (PeerHealth.rescueStranded): the
   * hedge goes now, outside the budget. With no other routable node at that
   * moment it stays where it is, like every unhedged call, until its deadline.
   */
  rescue(): void {
    this.stranded = false;
    this.sendBackup(true);
  }

  private unstrand(): void {
    if (!this.stranded) return;
    this.stranded = false;
    this.primary.peer.health.unstrand(this);
  }

  private sendBackup(rescue: boolean): void {
    const host = this.host;
    if (this.done || this.hedged || this.backup !== undefined || this.req.signal?.aborted) return;
    const now = Date.now();
    const left = this.deadline === 0 ? 0 : this.deadline - now;
    if (this.deadline !== 0 && left <= 0) return;
    const next = host.peers.pickRoutable(this.req.route.service, this.req.shardKey, this.primary.peer);
    if (next === undefined) return;
    if (this.attempt > host.budget.opts.maxRetries) {
      host.hedger.refused++;
      return;
    }
    if (!rescue && !host.budget.withdraw()) {
      host.hedger.refused++;
      if (!this.stranded) {
        this.stranded = true;
        this.primary.peer.health.strand(this);
      }
      return;
    }
    this.hedged = true;
    this.attempt++;
    host.hedger.sent++;
    if (rescue) host.hedger.rescued++;
    const { copy: b, p } = sendCopy(next, this.req, left, this.full);
    this.backup = b;
    this.backupChain = p.then(
      (v) => this.onBackupOk(b, v),
      (e: unknown) => this.onBackupErr(b, e),
    );
  }

  private onBackupOk(b: Copy, v: unknown): unknown {
    this.answered(b);
    if (this.done) return undefined;
    this.finish();
    if (this.primaryFailed) return v;
    this.value = v;
    this.host.hedger.won++;
    const c = this.primary;
    c.conn.abandon(c.id, LOST);
    return undefined;
  }

  private onBackupErr(b: Copy, e: unknown): unknown {
    b.peer.health.error(e);
    if (e === LOST) return undefined;
    if (this.primaryFailed) return this.retryOrFail(e, b.peer);
    // The first copy may still answer: the call waits for it, and fails or retries as if never hedged.
    this.backup = undefined;
    return undefined;
  }
}
