import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";

/** What observeStream reports about a stream's messages. */
export interface StreamObserver<T> {
  /** Each message, as the consumer takes it. */
  message?(m: T): void;
  /**
   * Once, when the stream is over for the consumer: `err` undefined when it
   * ended cleanly (the iterator said done), else its error, or `canceled` when
   * the consumer stopped early (return(), a `for await` that breaks).
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
 */
export function observeStream<T>(source: AsyncIterable<T> | Iterable<T>, o: StreamObserver<T>): AsyncIterableIterator<T> {
  let it: AsyncIterator<T> | Iterator<T> | undefined;
  let ended = false;
  const finish = (err: GomsError | undefined): void => {
    if (ended) return;
    ended = true;
    o.end?.(err);
  };
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
      else if (!ended) o.message?.(r.value);
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
