import { Code, GomsError } from "../../errors/index.js";
import { FixedQueue } from "./fixed-queue.js";

export interface AsyncQueueOptions {
  /**
   * Most items held for the consumer (items handed straight to a waiting
   * next() do not count). Default: unbounded. See `push` for what happens
   * when it is reached.
   */
  readonly limit?: number;
  /**
   * Runs exactly once, synchronously, when the queue stops accepting items:
   * on end(), fail(), stop() or return() (a `for await` that breaks). The
   * producer releases its source here (detach from a store, cancel a stream).
   */
  readonly onClose?: () => void;
  /**
   * Runs when next() leaves the queue empty while it is still open: it took
   * the last item or found none. An on-demand producer (replay from history,
   * a long poll that waits until its previous answer was consumed) refills
   * the queue here, synchronously or later.
   */
  readonly onDrain?: () => void;
}

interface Waiter<T> {
  resolve(r: IteratorResult<T>): void;
  reject(e: Error): void;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };

/** The error a producer fails a full queue with when it has nothing more specific to say. */
export function consumerTooSlow(limit: number): GomsError {
  return new GomsError(`consumer too slow: more than ${String(limit)} items queued`, Code.ResourceExhausted);
}

/**
 * A push-to-pull adapter: producers push(), one consumer iterates with
 * `for await`. Items are delivered in push order; a next() that finds nothing
 * waits for the next push.
 *
 * Ending:
 * - `end()` (producer): iteration finishes after the queued items;
 * - `fail(err)` (producer): the queued items are delivered, then next() rejects
 *   with `err` once; later calls resolve done;
 * - `stop()` / `return()` (consumer): ends now, drops the queued items, and
 *   resolves every waiting next() done.
 * The first of these wins; `onClose` runs once at that moment.
 *
 * Bound: with `limit`, a push() onto a full queue returns false and queues
 * nothing; the queue itself stays open. Dropping silently would hide lost
 * items, so the producer decides: a watch fails the queue with an error that
 * says where to resume (ResourceExhausted), others can use
 * `consumerTooSlow(limit)`, or wait and retry.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items = new FixedQueue<T>();
  private readonly waiters = new FixedQueue<Waiter<T>>();
  private readonly limit: number;
  /** No more pushes are accepted. */
  private closedFlag = false;
  /** Nothing more will be delivered (stopped, or the end was delivered). */
  private finished = false;
  /** Delivered after the queued items, by fail(). */
  private error: Error | undefined;

  constructor(private readonly options: AsyncQueueOptions = {}) {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1)) throw new GomsError("queue limit must be >= 1", Code.InvalidArgument);
    this.limit = limit;
  }

  /** Items waiting to be taken. */
  get length(): number {
    return this.items.length;
  }

  /** True once end(), fail(), stop() or return() was called: push() is refused. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Hands `item` to a waiting next() or queues it. Returns false, queueing
   * nothing, when the queue is closed or holds `limit` items.
   */
  push(item: T): boolean {
    if (this.closedFlag) return false;
    const w = this.waiters.shift();
    if (w !== undefined) {
      w.resolve({ done: false, value: item });
      return true;
    }
    if (this.items.length >= this.limit) return false;
    this.items.push(item);
    return true;
  }

  /** Ends the iteration after the queued items. */
  end(): void {
    if (!this.close()) return;
    this.settleWaiters();
  }

  /** Delivers the queued items, then rejects next() with `err`. */
  fail(err: Error): void {
    if (!this.close()) return;
    this.error = err;
    this.settleWaiters();
  }

  /** Ends now (consumer side): queued items are dropped, waiting next() calls resolve done. */
  stop(): void {
    this.close();
    if (this.finished) return;
    this.finished = true;
    this.error = undefined;
    this.items.clear();
    this.settleWaiters();
  }

  /**
   * Takes the next queued item at once, or returns undefined when none is
   * queued (then next() is the way to wait). For a consumer that reads what is
   * already buffered without a promise per item.
   */
  poll(): T | undefined {
    if (this.finished || this.items.length === 0) return undefined;
    const value = this.items.shift() as T;
    if (this.items.length === 0) this.drained();
    return value;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.finished) return Promise.resolve(DONE);
    if (this.items.length > 0) {
      const value = this.items.shift() as T;
      if (this.items.length === 0) this.drained();
      return Promise.resolve({ done: false, value });
    }
    if (!this.closedFlag) {
      this.drained();
      // The hook may have refilled the queue (or ended it) synchronously.
      if (this.items.length > 0) return Promise.resolve({ done: false, value: this.items.shift() as T });
    }
    if (this.closedFlag) {
      const err = this.takeEnd();
      return err === undefined ? Promise.resolve(DONE) : Promise.reject(err);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private drained(): void {
    if (!this.closedFlag) this.options.onDrain?.();
  }

  /** Marks the queue closed; false if it already was. Runs onClose the first time. */
  private close(): boolean {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    this.options.onClose?.();
    return true;
  }

  /** The end of the iteration, delivered once: the fail() error, or undefined for done. */
  private takeEnd(): Error | undefined {
    this.finished = true;
    const err = this.error;
    this.error = undefined;
    return err;
  }

  /** Waiters exist only while the queue is empty: once closed, they get the end. */
  private settleWaiters(): void {
    if (this.items.length > 0) return;
    for (let w = this.waiters.shift(); w !== undefined; w = this.waiters.shift()) {
      if (this.finished) {
        w.resolve(DONE);
        continue;
      }
      const err = this.takeEnd();
      if (err === undefined) w.resolve(DONE);
      else w.reject(err);
    }
  }
}
