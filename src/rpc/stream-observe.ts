import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";

/** What observeStream reports about a stream's messages. */
export interface StreamObserver<T> {
  /** Each message, as the consumer takes it. */
  message?(m: T): void;
  /**
   * Once, when the stream is over: `err` undefined when it ended cleanly (the
   * iterator said done, or `ended` reported a clean end), else its error, or
   * `canceled` when the consumer stopped early (return(), a `for await` that
   * breaks). With `ended`, this comes even when the consumer never reads the
   * stream's last messages or its end.
   */
  end?(err: GomsError | undefined): void;
  /** Runs each pull of the source (e.g. inside a tracing context). */
  around?<R>(pull: () => R): R;
}

const STOPPED = "the consumer stopped reading the stream";

/**
 * The messages of `source`, passed through unchanged, with `o` told about
 * each one and about the end. The one way goms (the detailed client, retries,
 * tracing) and interceptors watch a stream: breaking out of the result
 * returns the source too, so cancellation still reaches the other side.
 *
 * `ended` is the stream's own report of its end (a stream response's
 * `ended`: the connection or the in-process endpoint settles it however the
 * stream ends). A consumer that is reading takes the messages already
 * buffered, and then the end, in the same turn of the event loop, so the end
 * it reads is the one `o.end` hears, after every message; the report is only
 * used if the consumer has not read the end by the next turn (it stopped
 * reading, or never started). Messages it takes after that are not reported:
 * the stream is over for `o`.
 */
export function observeStream<T>(source: AsyncIterable<T> | Iterable<T>, o: StreamObserver<T>, ended?: Promise<GomsError | undefined>): AsyncIterableIterator<T> {
  let it: AsyncIterator<T> | Iterator<T> | undefined;
  let over = false;
  const finish = (err: GomsError | undefined): void => {
    if (over) return;
    over = true;
    o.end?.(err);
  };
  void ended?.then((err) => {
    if (!over) setImmediate(() => finish(err));
  });
  // A handler may return a plain iterable too (for await takes either).
  const open = (): AsyncIterator<T> | Iterator<T> => (it ??= Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]());
  const pull = (): Promise<IteratorResult<T>> | IteratorResult<T> => open().next();
  return {
    async next(): Promise<IteratorResult<T>> {
      let r: IteratorResult<T>;
      try {
        r = await (o.around === undefined ? pull() : o.around(pull));
      } catch (e) {
        finish(GomsError.from(e));
        throw e;
      }
      if (r.done === true) finish(undefined);
      else if (!over) o.message?.(r.value);
      return r;
    },
    async return(): Promise<IteratorResult<T>> {
      finish(new GomsError(STOPPED, Code.Canceled, { reason: "GOMS_ERR_CANCELED" }));
      await open().return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
