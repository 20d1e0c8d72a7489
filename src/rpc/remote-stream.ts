import { GomsError } from "../errors/goms-error.js";
import type { CallRequest } from "./call-request.js";
import type { Peer } from "./peer.js";
import type { PeerTable } from "./peer-table.js";
import { mayRetry, type RetryBudget } from "./retry-budget.js";
import { isIdempotent } from "./services.js";
import type { StreamResult } from "./stream-results.js";

/** What opening a stream on another node needs from its router. */
export interface RemoteStreamHost {
  readonly peers: PeerTable;
  readonly budget: RetryBudget;
  onRetry(): void;
}

/**
 * Opens a stream on `peer`'s connection. Streams are never hedged (a second
 * copy would run the handler twice for every message). A load-balanced server
 * stream may be retried on another node, but only before its first response
 * message arrives: after that the caller may act on a message, and a new
 * stream would start over. Client and bidi streams are never retried: their request
 * messages were taken from the caller's iterable as they were sent and could
 * not be sent again. Resolves at once; a failure to open (retried or not)
 * surfaces on the first next().
 */
export function openRemoteStream(host: RemoteStreamHost, peer: Peer, req: CallRequest, timeoutMs: number, full: boolean): Promise<unknown> {
  if (req.stream !== "server_streaming" || req.retry === false || req.node !== undefined) {
    const h = peer.health;
    return peer.conn!.call(req, timeoutMs, full).then(h.onAnswer, h.onError);
  }
  host.budget.deposit();
  const s = new RetryingStream(host, req, timeoutMs, req.retry ?? isIdempotent(req.method));
  s.open(peer, timeoutMs);
  return Promise.resolve(full ? s.result : s);
}

const DONE: IteratorResult<unknown> = { done: true, value: undefined };

/**
 * A load-balanced server stream that may be opened again elsewhere until it
 * commits to a node. Each attempt's first message is taken as soon as it
 * arrives, whether or not the caller is reading: an attempt that fails before
 * it (the open was refused, or the connection failed) is replaced at once by
 * one on another node when the rules of unary retries allow (mayRetry:
 * refused with the retry-elsewhere hint, or idempotent and unavailable;
 * within the retry budget, maxRetries and the deadline). The first message, or
 * a clean end, commits the stream to its node, and the caller's first next()
 * gets it. Deciding at once, not at the caller's next read, is what lets
 * `result.ended` report the end of the attempt that is kept, and only that
 * one, even for a caller that never reads.
 */
class RetryingStream implements AsyncIterableIterator<unknown> {
  /** What a `full` caller gets: ret and metadata are read from the attempt that opened last (set by its clean end). */
  readonly result: StreamResult;
  /** The caller's first next(): the kept attempt's first message (or end), or the error no retry follows. */
  private readonly head: Promise<IteratorResult<unknown>>;
  private settleHead!: { resolve(r: IteratorResult<unknown>): void; reject(e: unknown): void };
  private headTaken = false;
  /** The first message or the final error is known: no attempt follows. */
  private settled = false;
  /** The caller stopped (return()): no retry, and an attempt still opening is canceled once open. */
  private stopped = false;
  /** The current attempt's responses, once it opened. */
  private it: AsyncIterator<unknown> | undefined;
  private peer!: Peer;
  /** The attempt's result once it opened (where `result` reads ret and metadata from). */
  private opened: StreamResult | undefined;
  private reportEnd!: (err: GomsError | undefined) => void;
  private tries = 1;
  /** Date.now()-based deadline; 0 = none. */
  private readonly deadline: number;

  constructor(
    private readonly host: RemoteStreamHost,
    private readonly req: CallRequest,
    timeoutMs: number,
    private readonly idempotent: boolean,
  ) {
    this.deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
    this.head = new Promise((resolve, reject) => (this.settleHead = { resolve, reject }));
    // Observed by the caller's first next(), if it comes; until then, not an unhandled rejection.
    this.head.catch(() => undefined);
    const ended = new Promise<GomsError | undefined>((resolve) => (this.reportEnd = resolve));
    // Getters rather than a copy at the end: the connection sets the attempt's ret and metadata before its
    // responses say done, so no step per message is needed to catch the end and copy them.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters read the live attempt
    const self = this;
    this.result = {
      message: this,
      get ret() {
        return self.opened?.ret ?? 0;
      },
      get metadata() {
        return self.opened?.metadata ?? {};
      },
      ended,
    };
  }

  open(peer: Peer, timeoutMs: number): void {
    this.peer = peer;
    this.it = undefined;
    this.opened = undefined;
    const attempt = peer.conn!.call(this.req, timeoutMs, true) as Promise<StreamResult>;
    attempt
      .then((r) => {
        this.opened = r;
        const it = (this.it = r.message[Symbol.asyncIterator]());
        // The caller stopped while this attempt was opening: cancel it (its first next() then says done).
        if (this.stopped) void it.return?.();
        return it.next().then((first) => this.commit(r, first));
      })
      .catch((e: unknown) => this.failed(e));
  }

  /** The attempt delivered its first message or ended cleanly: the stream stays on this node. */
  private commit(r: StreamResult, first: IteratorResult<unknown>): void {
    this.settled = true;
    if (!this.stopped) this.peer.health.onAnswer(undefined);
    this.settleHead.resolve(first);
    void r.ended.then(this.reportEnd);
  }

  /** The attempt failed before its first message: open the next one, or end the stream with the error. */
  private failed(e: unknown): void {
    this.peer.health.error(e);
    try {
      if (this.stopped) throw e;
      this.retry(e);
    } catch (final) {
      this.settled = true;
      this.settleHead.reject(final);
      this.reportEnd(GomsError.from(final));
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (!this.headTaken) {
      this.headTaken = true;
      return this.head;
    }
    // Committed: a message costs the stream's own next() and nothing more.
    if (this.settled) return this.it !== undefined ? this.it.next() : Promise.resolve(DONE);
    return this.head.then(
      () => this.it!.next(),
      () => DONE,
    );
  }

  async return(): Promise<IteratorResult<unknown>> {
    this.stopped = true;
    // A first message taken ahead of the caller is not delivered after it stopped.
    this.headTaken = true;
    await this.it?.return?.();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Opens the next attempt on another node, or throws `err` when the stream may not be retried. */
  private retry(err: unknown): void {
    const { host, req } = this;
    if (this.tries > host.budget.opts.maxRetries || req.signal?.aborted === true || !mayRetry(err, this.idempotent)) throw err;
    const left = this.deadline === 0 ? 0 : this.deadline - Date.now();
    if (this.deadline !== 0 && left <= 0) throw err;
    const next = host.peers.pick(req.route.service, req.shardKey, this.peer);
    if (next === undefined || !host.budget.withdraw()) throw err;
    host.onRetry();
    this.tries++;
    this.open(next, left);
  }
}
