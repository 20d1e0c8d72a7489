import { Code, GomsError } from "../errors/index.js";

interface Waiter<T> {
  resolve(r: IteratorResult<T>): void;
  reject(e: unknown): void;
}

/**
 * A bounded push-to-pull adapter: a producer (an event emitter) pushes, a
 * for-await consumer pulls. When more than `limit` items are waiting the
 * queue fails with ResourceExhausted instead of growing without bound.
 * `end()`/`fail()` take effect after the queued items are consumed; `stop()`
 * ends it at once and runs `onStop` exactly once.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Waiter<T>[] = [];
  private closed = false;
  private error: unknown;
  private released = false;

  constructor(
    private readonly limit: number,
    private readonly onStop: () => void,
  ) {}

  /** Adds an item; returns false (and fails the queue) when it is full. */
  push(item: T): boolean {
    if (this.closed) return false;
    const w = this.waiters.shift();
    if (w !== undefined) {
      w.resolve({ done: false, value: item });
      return true;
    }
    if (this.items.length - this.head >= this.limit) {
      this.fail(new GomsError(`watch consumer fell behind (more than ${String(this.limit)} events queued)`, Code.ResourceExhausted));
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends with `err` after the queued items. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.error = err;
    this.release();
    this.flush();
  }

  /** Ends normally after the queued items. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.flush();
  }

  /** Ends now; pending and later next() calls resolve done. */
  stop(): void {
    this.closed = true;
    this.items = [];
    this.head = 0;
    this.error = undefined;
    this.release();
    this.flush();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head] as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.closed) return this.finish();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private finish(): Promise<IteratorResult<T>> {
    if (this.error !== undefined) {
      const e = this.error;
      this.error = undefined;
      return Promise.reject(e);
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  private flush(): void {
    if (this.head < this.items.length) return;
    for (const w of this.waiters.splice(0)) {
      if (this.error !== undefined) {
        w.reject(this.error);
        this.error = undefined;
      } else {
        w.resolve({ done: true, value: undefined });
      }
    }
  }

  /** Tells the producer, once, that nothing more will be taken. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onStop();
  }
}
