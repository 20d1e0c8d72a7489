import { Code, GomsError } from "../errors/index.js";
import { watcherBehindError } from "./errors.js";
import type { History } from "./history.js";
import { Queue } from "./queue.js";
import type { WatchEvent } from "./types.js";

/** What a watcher needs from its store. */
export interface WatchSource {
  readonly revision: number;
  readonly history: History;
  detach(w: Watcher): void;
}

interface Waiter {
  resolve(r: IteratorResult<WatchEvent>): void;
  reject(e: unknown): void;
}

const DONE: IteratorResult<WatchEvent> = { done: true, value: undefined };

/**
 * An async iterable of events. It starts in replay mode, reading the shared
 * history from `cursor` on demand (so a long replay needs no private buffer),
 * and switches to live mode, fed by the store, once the cursor passes the
 * current revision. Both happen synchronously on the JS thread, so no event
 * can slip between replay and live: none is lost, none is doubled.
 *
 * Live events go through a bounded queue. When it is full the watcher stops
 * accepting events; the consumer still receives the queued ones, then the
 * iterator rejects with ResourceExhausted carrying the first missed revision.
 */
export class Watcher implements AsyncIterableIterator<WatchEvent> {
  private cursor: number;
  private live: boolean;
  private readonly queue = new Queue<WatchEvent>();
  private waiters: Waiter[] = [];
  /** No more events will be accepted. */
  private closed = false;
  /** Error to deliver after the queue drains. */
  private error: GomsError | undefined;
  /** Nothing more will be delivered. */
  private finished = false;

  constructor(
    private readonly source: WatchSource,
    private readonly match: (key: string) => boolean,
    fromRevision: number | undefined,
    private readonly queueSize: number,
  ) {
    const next = source.revision + 1;
    this.cursor = fromRevision === undefined ? next : fromRevision;
    this.live = this.cursor >= next;
  }

  /** Called by the store for every committed event, in revision order. */
  offer(ev: WatchEvent): void {
    if (this.closed || !this.live || ev.revision < this.cursor || !this.match(ev.key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: ev });
      return;
    }
    if (this.queue.length >= this.queueSize) {
      this.fail(watcherBehindError(ev.revision));
      return;
    }
    this.queue.push(ev);
  }

  /** Ends the watch with `err` once the already-queued events are consumed. */
  fail(err: GomsError): void {
    if (this.closed) return;
    this.closed = true;
    this.error = err;
    this.source.detach(this);
    if (this.queue.length === 0) this.flushError();
  }

  /** Stops the watch now; pending and future `next()` calls resolve done. */
  stop(): void {
    if (this.finished) return;
    this.closed = true;
    this.finished = true;
    this.queue.clear();
    this.source.detach(this);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(DONE);
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.finished) return Promise.resolve(DONE);
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve({ done: false, value: queued });
    if (!this.live && !this.closed) {
      const ev = this.replayOne();
      if (ev !== undefined) return Promise.resolve({ done: false, value: ev });
    }
    if (this.error !== undefined) {
      const err = this.error;
      this.error = undefined;
      this.finished = true;
      return Promise.reject(err);
    }
    if (this.closed) {
      this.finished = true;
      return Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Reads history from the cursor to the next matching event; goes live when caught up. */
  private replayOne(): WatchEvent | undefined {
    const { history } = this.source;
    while (this.cursor <= this.source.revision) {
      const ev = history.at(this.cursor);
      if (ev === undefined) {
        this.fail(watcherBehindError(this.cursor));
        return undefined;
      }
      this.cursor++;
      if (this.match(ev.key)) return ev;
    }
    this.live = true;
    return undefined;
  }

  private flushError(): void {
    const err = this.error;
    if (err === undefined || this.waiters.length === 0) return;
    this.error = undefined;
    this.finished = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }
}

export function storeClosedError(): GomsError {
  return new GomsError("watch store closed", Code.Unavailable);
}
