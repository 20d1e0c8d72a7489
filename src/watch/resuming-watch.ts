/**
 * The client side of a watch: a KvWatch that reads batches of events from
 * the server and, when the batches stop for any reason but a fatal error,
 * asks again from where it stands. Resumption is by construction: every
 * batch carries `next_revision`, the watch records it together with the
 * batch's events (synchronously, so the two never disagree), and a new
 * request starts there. A lost connection, a restarted (persistent) server or
 * a poll that simply answered all mean asking again; nothing is lost or
 * doubled. The same loop drives a Watch stream (one request, many batches)
 * and the older Poll (one batch per request).
 *
 * The loop takes the next batch only once the consumer has taken every event
 * of the previous one, so it holds one batch; with a stream, the batches the
 * server sends meanwhile wait in the stream's window, and past it the server
 * stops reading its history.
 */
import { Code, GomsError } from "../errors/index.js";
import type { WatchPollResponse } from "../gen/goms/v1/watch_pb.js";
import { backoffDelay, type BackoffOptions } from "../internal/util/backoff.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import { sleep } from "../internal/util/sleep.js";
import type { KvEvent, KvWatch } from "../kv/backend.js";
import { EVENT_TOO_LARGE_KEY } from "../kv/errors.js";
import { wireToKvEvent } from "./wire.js";

/**
 * Opens a read of the events from revision `from` (0 = from now): the batches
 * of one stream, or the one answer of a poll. Ending without error means
 * "ask again from the last next_revision".
 */
export type OpenBatches = (from: number, signal: AbortSignal) => AsyncIterable<WatchPollResponse>;

/** Codes that retrying cannot fix: the watch ends with the error. */
const FATAL = new Set<Code>([Code.OutOfRange, Code.InvalidArgument, Code.Unauthenticated, Code.PermissionDenied, Code.Unimplemented, Code.NotFound]);

/**
 * Errors a retry from the same revision would only repeat. Besides the fatal
 * codes: an event too large for this client (ResourceExhausted, marked in the
 * metadata), which must not be confused with an overloaded server.
 */
function isFatal(err: GomsError): boolean {
  return FATAL.has(err.code) || err.metadata[EVENT_TOO_LARGE_KEY] !== undefined;
}

/**
 * The consumer side is an AsyncQueue. It is unbounded on purpose: the loop
 * only reads the next batch once the consumer has taken every event of the
 * previous one (onDrain), so it never holds more than one batch (max_events).
 */
export class ResumingWatch implements KvWatch, AsyncIterableIterator<KvEvent> {
  private readonly queue: AsyncQueue<KvEvent>;
  private readonly ac = new AbortController();
  /** Resolves the loop's wait for the consumer to drain the queue. */
  private drained: (() => void) | undefined;
  /** Next revision to ask for; 0 = "from now" until the first batch. */
  private nextRevision: number;

  constructor(
    afterRevision: number | undefined,
    private readonly open: OpenBatches,
    private readonly backoff: BackoffOptions,
    onEnd: (w: ResumingWatch) => void,
  ) {
    this.queue = new AsyncQueue<KvEvent>({
      onClose: () => {
        this.ac.abort(new GomsError("watch stopped", Code.Canceled));
        this.drained?.();
        onEnd(this);
      },
      onDrain: () => this.drained?.(),
    });
    if (afterRevision !== undefined && (!Number.isSafeInteger(afterRevision) || afterRevision < 0)) {
      this.nextRevision = 0;
      this.queue.fail(new GomsError("afterRevision must be a non-negative integer", Code.InvalidArgument));
      return;
    }
    this.nextRevision = afterRevision === undefined ? 0 : afterRevision + 1;
    void this.loop();
  }

  /** Revision the next request starts from (every revision below it was delivered or skipped). */
  get resumeRevision(): number {
    return this.nextRevision;
  }

  stop(): void {
    this.queue.stop();
  }

  next(): Promise<IteratorResult<KvEvent>> {
    return this.queue.next();
  }

  return(): Promise<IteratorResult<KvEvent>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.queue.closed) {
      let batches = 0;
      try {
        for await (const res of this.open(this.nextRevision, this.ac.signal)) {
          batches++;
          attempt = 0;
          if (this.queue.closed) return;
          this.nextRevision = Number(res.nextRevision);
          if (res.events.length > 0) {
            for (const ev of res.events) this.queue.push(wireToKvEvent(ev));
            await this.consumed();
          }
        }
        // A stream that ended before its first batch: a closing server. Ask again, but not in a tight loop.
        if (batches === 0) await sleep(backoffDelay(attempt++, this.backoff), this.ac.signal);
      } catch (e) {
        if (this.queue.closed) return;
        const err = GomsError.from(e);
        if (isFatal(err)) {
          this.queue.fail(err);
          return;
        }
        await sleep(backoffDelay(attempt++, this.backoff), this.ac.signal);
      }
    }
  }

  /** Resolves once the consumer has taken every queued event (or the watch ended). */
  private consumed(): Promise<void> {
    if (this.queue.length === 0 || this.queue.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        resolve();
      };
    });
  }
}
