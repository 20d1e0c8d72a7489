/**
 * The client side of a long-poll watch: a KvWatch that polls in a loop.
 * Resumption is by construction: every poll asks for the events from the
 * `next_revision` the previous answer gave, so a lost answer, a dropped
 * connection or a restarted (persistent) server just means asking again. The
 * loop polls only once the consumer has taken the previous batch, so memory
 * is bounded by one answer.
 */
import { Code, GomsError } from "../errors/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WatchPollRequestSchema, WatchPollResponse } from "../gen/goms/v1/watch_pb.js";
import { backoffDelay, type BackoffOptions } from "../internal/util/backoff.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import { sleep } from "../internal/util/sleep.js";
import type { KvEvent, KvWatch } from "../kv/backend.js";
import { EVENT_TOO_LARGE_KEY } from "../kv/errors.js";
import { wireToKvEvent } from "./wire.js";

export type PollFn = (req: MessageInitShape<typeof WatchPollRequestSchema>, signal: AbortSignal) => Promise<WatchPollResponse>;

export interface PollWatchOptions {
  /** Wait per poll, ms. */
  readonly waitMs: number;
  /** Events per poll. */
  readonly maxEvents: number;
  /** Largest answer accepted, bytes (WatchPollRequest.max_bytes; from the client's frame limit). */
  readonly maxBytes: number;
  /** Retry delays while the server is unreachable. */
  readonly backoff: BackoffOptions;
}

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
 * only polls again once the consumer has taken every event of the previous
 * answer (onDrain), so it never holds more than one answer (maxEvents).
 */
export class PollWatch implements KvWatch, AsyncIterableIterator<KvEvent> {
  private readonly queue: AsyncQueue<KvEvent>;
  private readonly ac = new AbortController();
  /** Resolves the loop's wait for the consumer to drain the queue. */
  private drained: (() => void) | undefined;
  /** Next revision to ask for; 0 = "from now" until the first answer. */
  private nextRevision: number;

  constructor(
    private readonly prefix: string,
    afterRevision: number | undefined,
    private readonly pollFn: PollFn,
    private readonly o: PollWatchOptions,
    onEnd: (w: PollWatch) => void,
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

  /** Revision the next poll starts from (every revision below it was delivered or skipped). */
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
      let res: WatchPollResponse;
      try {
        res = await this.pollFn(
          {
            filter: { case: "prefix", value: this.prefix },
            fromRevision: BigInt(this.nextRevision),
            maxEvents: this.o.maxEvents,
            waitMs: this.o.waitMs,
            maxBytes: this.o.maxBytes,
          },
          this.ac.signal,
        );
      } catch (e) {
        if (this.queue.closed) return;
        const err = GomsError.from(e);
        if (isFatal(err)) {
          this.queue.fail(err);
          return;
        }
        await sleep(backoffDelay(attempt++, this.o.backoff), this.ac.signal);
        continue;
      }
      attempt = 0;
      if (this.queue.closed) return;
      this.nextRevision = Number(res.nextRevision);
      if (res.events.length > 0) {
        for (const ev of res.events) this.queue.push(wireToKvEvent(ev));
        await this.consumed();
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
