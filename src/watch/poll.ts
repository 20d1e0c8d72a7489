/**
 * Server side of WatchService.Watch (a server stream) and Poll (the older
 * long poll): both read the store's shared history ring from a revision and
 * keep no per-watcher buffer. When nothing matches they park on a wake-up
 * list until the next commit. One store watcher per server (not per client)
 * drives the wake-ups.
 *
 * A stream reads its next batch only once the previous one fitted the
 * stream's window (the generator is suspended at its yield meanwhile), so a
 * watcher that does not read costs the server one window plus one batch, and
 * a watcher that falls behind the history gets the compacted error on its
 * next read, as a poll would.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, GomsError } from "../errors/index.js";
import type { WatchPollRequest, WatchPollResponseSchema, WatchRequest } from "../gen/goms/v1/watch_pb.js";
import type { HandlerContext } from "../rpc/index.js";
import { aheadError, compactedError, eventTooLargeError } from "../kv/errors.js";
import { eventBytes } from "../kv/limits.js";
import type { WatchStore } from "../kv/store.js";
import type { WatchEvent } from "../kv/types.js";
import type { StoreWatch } from "../kv/store-watch.js";
import { answerLimit, EVENT_OVERHEAD, eventToWire, toSafe } from "./wire.js";

export interface PollLimits {
  /** Longest wait a poll may ask for, ms. */
  readonly maxWaitMs: number;
  /** Most events in one answer. */
  readonly maxEvents: number;
  /** Events per answer when the request says 0. */
  readonly defaultMaxEvents: number;
  /**
   * Keys and values one answer may carry when it holds several events. A lone
   * event may be larger, up to the client's own limit (max_bytes).
   */
  readonly maxBytes: number;
  /** Concurrent polls and watch streams on one connection. */
  readonly maxPollsPerConnection: number;
  /**
   * Keys and values one stream message may carry when it holds several
   * events (a lone event may be larger, up to the client's max_bytes). Smaller
   * than maxBytes: a stream sends batch after batch, and each batch waits
   * for the window, so big batches would only add latency and memory.
   */
  readonly streamBatchBytes: number;
  /**
   * While other keys change, a stream sends a message without events at most
   * this often, so that the client's resume revision keeps up with the
   * store and a reconnect does not start from compacted history.
   */
  readonly progressMs: number;
  /** Answer this long before the caller's deadline, ms. */
  readonly deadlineMarginMs: number;
}

export const defaultPollLimits: PollLimits = {
  maxWaitMs: 30_000,
  maxEvents: 10_000,
  defaultMaxEvents: 1000,
  maxBytes: 4 * 1024 * 1024,
  maxPollsPerConnection: 64,
  streamBatchBytes: 256 * 1024,
  progressMs: 1000,
  deadlineMarginMs: 200,
};

type PollAnswer = MessageInitShape<typeof WatchPollResponseSchema>;

interface Scan {
  /** The events, each with or without its previous value. */
  readonly events: { readonly ev: WatchEvent; readonly withPrev: boolean }[];
  /** First revision not examined. */
  readonly next: number;
}

export class Poller {
  private readonly wakers = new Set<() => void>();
  private readonly perConnection = new Map<string, number>();
  private follower: StoreWatch | undefined;
  private closed = false;
  private openStreams = 0;

  constructor(
    private readonly store: WatchStore,
    private readonly limits: PollLimits,
  ) {}

  /** Starts following the store's commits (one store watcher for all polls). */
  start(): void {
    if (this.closed || this.follower !== undefined) return;
    let w: StoreWatch;
    try {
      w = this.store.watch({ queueSize: this.store.history.capacity });
    } catch {
      return; // store closed
    }
    this.follower = w;
    void (async () => {
      try {
        for await (const _ of w) this.wakeAll();
      } catch {
        // Fell behind (a batch larger than the history) or store closed: polls re-scan history anyway.
      }
      if (this.follower === w) this.follower = undefined;
      this.wakeAll();
      if (!this.closed) this.start();
    })();
  }

  /** Ends every parked poll (they answer with what they have) and stops following. */
  close(): void {
    this.closed = true;
    this.follower?.stop();
    this.follower = undefined;
    this.wakeAll();
  }

  /** Number of polls and streams currently parked (for tests and metrics). */
  get parked(): number {
    return this.wakers.size;
  }

  /** Number of Watch streams open (for tests and metrics). */
  get streams(): number {
    return this.openStreams;
  }

  async poll(req: WatchPollRequest, ctx: HandlerContext): Promise<PollAnswer> {
    const match = matcher(req);
    let from = this.startRevision(req);
    const maxEvents = this.eventsPerAnswer(req);
    let wait = Math.min(req.waitMs, this.limits.maxWaitMs);
    const left = ctx.timeRemaining();
    if (left !== undefined) wait = Math.min(wait, Math.max(0, left - this.limits.deadlineMarginMs));
    const until = Date.now() + wait;
    const hard = answerLimit(req.maxBytes);
    const soft = Math.min(this.limits.maxBytes, hard);

    const release = this.admit(ctx);
    try {
      for (;;) {
        const scan = this.scan(from, match, maxEvents, soft, hard);
        from = scan.next;
        const remaining = until - Date.now();
        if (scan.events.length > 0 || remaining <= 0 || this.closed) return this.answer(scan);
        await this.park(remaining, ctx);
        if (ctx.signal.aborted) throw GomsError.from(ctx.signal.reason, Code.Canceled);
      }
    } finally {
      release();
    }
  }

  /**
   * WatchService.Watch: the first message at once (it tells the client where
   * it stands, and makes "from now" a fixed revision the client can resume
   * from), then one per batch of matching events, and a progress message (no
   * events) at most every progressMs while only other keys change. Ends when
   * the call ends (the caller's cancel, a lost connection) or the server closes.
   */
  async *stream(req: WatchRequest, ctx: HandlerContext): AsyncGenerator<PollAnswer> {
    const match = matcher(req);
    let from = this.startRevision(req);
    const maxEvents = this.eventsPerAnswer(req);
    const hard = answerLimit(req.maxBytes);
    const soft = Math.min(this.limits.streamBatchBytes, hard);
    const { progressMs } = this.limits;
    const release = this.admit(ctx);
    this.openStreams++;
    try {
      let reported = -1; // next_revision of the last message sent
      let sentAt = 0;
      while (!ctx.signal.aborted && !this.closed) {
        const scan = this.scan(from, match, maxEvents, soft, hard);
        from = scan.next;
        const progressDue = from !== reported && Date.now() - sentAt >= progressMs;
        if (scan.events.length > 0 || reported === -1 || progressDue) {
          yield this.answer(scan);
          reported = from;
          sentAt = Date.now();
          continue;
        }
        await this.park(from === reported ? progressMs : Math.max(1, sentAt + progressMs - Date.now()), ctx);
      }
    } finally {
      this.openStreams--;
      release();
    }
  }

  private startRevision(req: { readonly fromRevision: bigint }): number {
    const from = toSafe("from_revision", req.fromRevision);
    return from === 0 ? this.store.revision + 1 : from;
  }

  private eventsPerAnswer(req: { readonly maxEvents: number }): number {
    const wanted = req.maxEvents === 0 ? this.limits.defaultMaxEvents : req.maxEvents;
    return Math.max(1, Math.min(wanted, this.limits.maxEvents));
  }

  private answer(scan: Scan): PollAnswer {
    return {
      events: scan.events.map((e) => eventToWire(e.ev, e.withPrev)),
      nextRevision: BigInt(scan.next),
      revision: BigInt(this.store.revision),
      oldestRevision: BigInt(this.store.oldestRevision),
    };
  }

  /**
   * Reads matching events from history, starting at `from`, keeping the answer
   * within the client's limit so that a watcher always gets past an event:
   * events are added while they fit `soft` bytes; a first event that does not
   * goes alone if it fits `hard` (the client's max_bytes), else without its
   * previous value; if even that does not fit, the poll fails with a resume
   * revision past it, and the client's watch ends instead of retrying.
   */
  private scan(from: number, match: (key: string) => boolean, maxEvents: number, soft: number, hard: number): Scan {
    const { store } = this;
    const rev = store.revision;
    if (from > rev + 1) throw aheadError(from, rev, store.oldestRevision);
    if (from < store.oldestRevision) throw compactedError(from, store.oldestRevision);
    const events: Scan["events"] = [];
    let bytes = 0;
    let r = from;
    while (r <= rev && events.length < maxEvents) {
      const ev = store.history.at(r);
      if (ev === undefined) throw compactedError(r, store.oldestRevision);
      if (!match(ev.key)) {
        r++;
        continue;
      }
      const full = eventBytes(ev) + EVENT_OVERHEAD;
      if (bytes + full <= soft || (events.length === 0 && full <= hard)) {
        events.push({ ev, withPrev: true });
        bytes += full;
        r++;
        continue;
      }
      if (events.length > 0) break; // the next answer starts with it
      const bare = eventBytes(ev, false) + EVENT_OVERHEAD;
      if (bare > hard) throw eventTooLargeError(ev.revision, bare, hard);
      events.push({ ev, withPrev: false });
      r++;
      break;
    }
    return { events, next: r };
  }

  /** Resolves on the next commit, after `ms`, when the call ends or the server closes. */
  private park(ms: number, ctx: HandlerContext): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = ctx.signal;
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });
  }

  private wakeAll(): void {
    if (this.wakers.size === 0) return;
    const all = [...this.wakers];
    this.wakers.clear();
    for (const w of all) w();
  }

  /** Counts the poll against its connection; the returned function releases it. */
  private admit(ctx: HandlerContext): () => void {
    if (ctx.peer.local) return () => undefined;
    const key = ctx.peer.address;
    const n = this.perConnection.get(key) ?? 0;
    if (n >= this.limits.maxPollsPerConnection) {
      throw new GomsError(`too many concurrent polls and watches on this connection (limit ${String(this.limits.maxPollsPerConnection)})`, Code.ResourceExhausted);
    }
    this.perConnection.set(key, n + 1);
    return () => {
      const m = (this.perConnection.get(key) ?? 1) - 1;
      if (m <= 0) this.perConnection.delete(key);
      else this.perConnection.set(key, m);
    };
  }
}

function matcher(req: WatchPollRequest | WatchRequest): (key: string) => boolean {
  const f = req.filter;
  if (f.case === "key") {
    const key = f.value;
    return (k) => k === key;
  }
  if (f.case === "prefix" && f.value !== "") {
    const prefix = f.value;
    return (k) => k.startsWith(prefix);
  }
  return () => true;
}
