import { Code, GomsError } from "../errors/index.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import { watcherBehindError } from "./errors.js";
import type { History } from "./history.js";
import { eventBytes } from "./limits.js";
import type { WatchEvent } from "./types.js";

/** What a watcher needs from its store. */
export interface WatchSource {
  readonly revision: number;
  readonly history: History;
  detach(w: StoreWatch): void;
}

/**
 * An async iterable of events. It starts in replay mode, reading the shared
 * history from `cursor` on demand (so a long replay needs no private buffer),
 * and switches to live mode, fed by the store, once the cursor passes the
 * current revision. Both happen synchronously on the JS thread, so no event
 * can slip between replay and live: none is lost, none is doubled.
 *
 * Live events go through a queue bounded twice: `queueSize` events, and the
 * history's byte budget (keys, values and previous values, as History counts
 * them). The queued events are the history's own objects, so while they are
 * in the history they cost nothing extra; the byte bound caps what a stalled
 * watcher keeps alive after the history dropped it (with big values, a
 * thousand queued events could otherwise pin gigabytes). When either bound is
 * reached the watcher stops accepting events; the consumer still receives
 * the queued ones, then the iterator rejects with ResourceExhausted carrying
 * the first missed revision. One event alone is always accepted.
 */
export class StoreWatch implements AsyncIterableIterator<WatchEvent> {
  private cursor: number;
  private live: boolean;
  private readonly queue: AsyncQueue<WatchEvent>;
  /** eventBytes of the events pushed and not yet taken by next(). */
  private queuedBytes = 0;

  constructor(
    private readonly source: WatchSource,
    private readonly match: (key: string) => boolean,
    startRevision: number | undefined,
    queueSize: number,
  ) {
    const next = source.revision + 1;
    this.cursor = startRevision === undefined ? next : startRevision;
    this.live = this.cursor >= next;
    this.queue = new AsyncQueue<WatchEvent>({
      limit: queueSize,
      onClose: () => source.detach(this),
      // Replay is pulled: one history event each time the consumer has taken the previous one.
      onDrain: () => this.replayOne(),
    });
  }

  /** Called by the store for every committed event, in revision order. */
  offer(ev: WatchEvent): void {
    if (this.queue.closed || !this.live || ev.revision < this.cursor || !this.match(ev.key)) return;
    if (!this.enqueue(ev)) this.queue.fail(watcherBehindError(ev.revision));
  }

  /** Ends the watch with `err` once the already-queued events are consumed. */
  fail(err: GomsError): void {
    this.queue.fail(err);
  }

  /** Stops the watch now; pending and future `next()` calls resolve done. */
  stop(): void {
    this.queue.stop();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    return this.queue.next().then((r) => {
      if (r.done !== true) this.queuedBytes -= eventBytes(r.value);
      return r;
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Pushes `ev` within both bounds; false when it does not fit (or the queue is closed). */
  private enqueue(ev: WatchEvent): boolean {
    const size = eventBytes(ev);
    if (this.queue.length > 0 && this.queuedBytes + size > this.source.history.maxBytes) return false;
    if (!this.queue.push(ev)) return false;
    this.queuedBytes += size;
    return true;
  }

  /** Queues the next matching history event; goes live when caught up. */
  private replayOne(): void {
    if (this.live) return;
    const { history } = this.source;
    while (this.cursor <= this.source.revision) {
      const ev = history.at(this.cursor);
      if (ev === undefined) {
        this.queue.fail(watcherBehindError(this.cursor));
        return;
      }
      this.cursor++;
      if (this.match(ev.key)) {
        this.enqueue(ev);
        return;
      }
    }
    this.live = true;
  }
}

export function storeClosedError(): GomsError {
  return new GomsError("watch store closed", Code.Unavailable);
}
