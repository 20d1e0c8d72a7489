import { Code, GomsError } from "../errors/index.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import { watcherBehindError } from "./errors.js";
import type { History } from "./history.js";
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
 * Live events go through a bounded queue. When it is full the watcher stops
 * accepting events; the consumer still receives the queued ones, then the
 * iterator rejects with ResourceExhausted carrying the first missed revision.
 */
export class StoreWatch implements AsyncIterableIterator<WatchEvent> {
  private cursor: number;
  private live: boolean;
  private readonly queue: AsyncQueue<WatchEvent>;

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
    if (!this.queue.push(ev)) this.queue.fail(watcherBehindError(ev.revision));
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
    return this.queue.next();
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
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
        this.queue.push(ev);
        return;
      }
    }
    this.live = true;
  }
}

export function storeClosedError(): GomsError {
  return new GomsError("watch store closed", Code.Unavailable);
}
