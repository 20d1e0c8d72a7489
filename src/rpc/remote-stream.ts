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
 * message: after that the caller has acted on a message, and a new stream
 * would start over. Client and bidi streams are never retried: their request
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

/**
 * A server stream that has not delivered a message yet: the first next() that
 * fails (the open was refused, or the connection failed) opens it again on
 * another node when the rules of unary retries allow (mayRetry: refused with
 * the retry-elsewhere hint, or idempotent and unavailable; within the retry
 * budget, maxRetries and the deadline). The first message, or a clean end,
 * commits it to its node.
 */
class RetryingStream implements AsyncIterableIterator<unknown> {
  /** What a `full` caller gets: ret and metadata are read from the attempt that opened last (set by its clean end). */
  readonly result: StreamResult;
  private attempt!: Promise<StreamResult>;
  private it: AsyncIterator<unknown> | undefined;
  private peer!: Peer;
  private committed = false;
  /** The attempt's result once it opened (where `result` reads ret and metadata from). */
  private opened: StreamResult | undefined;
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
    };
  }

  open(peer: Peer, timeoutMs: number): void {
    this.peer = peer;
    this.it = undefined;
    this.opened = undefined;
    this.attempt = peer.conn!.call(this.req, timeoutMs, true) as Promise<StreamResult>;
    // Observed by next(); until then, not an unhandled rejection.
    this.attempt.catch(() => undefined);
  }

  next(): Promise<IteratorResult<unknown>> {
    // Committed to its node: no retry can follow, so a message costs the stream's own next() and nothing more.
    if (this.committed && this.it !== undefined) return this.it.next();
    return this.nextAttempt();
  }

  private async nextAttempt(): Promise<IteratorResult<unknown>> {
    for (;;) {
      let r: IteratorResult<unknown>;
      try {
        const cur = (this.opened = await this.attempt);
        r = await (this.it ??= cur.message[Symbol.asyncIterator]()).next();
      } catch (e) {
        if (this.committed) throw e;
        this.peer.health.error(e);
        this.retry(e);
        continue;
      }
      if (!this.committed) {
        this.committed = true;
        this.peer.health.onAnswer(undefined);
      }
      return r;
    }
  }

  async return(): Promise<IteratorResult<unknown>> {
    this.committed = true;
    const cur = await this.attempt.catch(() => undefined);
    if (cur !== undefined) await (this.it ??= cur.message[Symbol.asyncIterator]()).return?.();
    return { done: true, value: undefined };
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
