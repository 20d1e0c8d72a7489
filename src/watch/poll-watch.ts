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
import { sleep } from "../internal/util/sleep.js";
import type { KvEvent, KvWatch } from "../registry/kv.js";
import { wireToKvEvent } from "./wire.js";

export type PollFn = (req: MessageInitShape<typeof WatchPollRequestSchema>, signal: AbortSignal) => Promise<WatchPollResponse>;

export interface PollWatchOptions {
  /** Wait per poll, ms. */
  readonly waitMs: number;
  /** Events per poll. */
  readonly maxEvents: number;
  /** Retry delays while the server is unreachable. */
  readonly backoff: BackoffOptions;
}

/** Codes that retrying cannot fix: the watch ends with the error. */
const FATAL = new Set<Code>([Code.OutOfRange, Code.InvalidArgument, Code.Unauthenticated, Code.PermissionDenied, Code.Unimplemented, Code.NotFound]);

interface Waiter {
  resolve(r: IteratorResult<KvEvent>): void;
  reject(e: unknown): void;
}

const DONE: IteratorResult<KvEvent> = { done: true, value: undefined };

export class PollWatch implements KvWatch, AsyncIterableIterator<KvEvent> {
  private readonly queue: KvEvent[] = [];
  private waiters: Waiter[] = [];
  private error: GomsError | undefined;
  private finished = false;
  private stopped = false;
  private stopCalled = false;
  private readonly ac = new AbortController();
  /** Resolves the loop's wait for the consumer to drain the queue. */
  private drained: (() => void) | undefined;
  /** Next revision to ask for; 0 = "from now" until the first answer. */
  private nextRevision: number;

  constructor(
    private readonly prefix: string,
    fromRevision: number | undefined,
    private readonly pollFn: PollFn,
    private readonly o: PollWatchOptions,
    private readonly onEnd: (w: PollWatch) => void,
  ) {
    if (fromRevision !== undefined && (!Number.isSafeInteger(fromRevision) || fromRevision < 0)) {
      this.nextRevision = 0;
      this.end(new GomsError("fromRevision must be a non-negative integer", Code.InvalidArgument));
      return;
    }
    this.nextRevision = fromRevision === undefined ? 0 : fromRevision + 1;
    void this.loop();
  }

  /** Revision the next poll starts from (every revision below it was delivered or skipped). */
  get resumeRevision(): number {
    return this.nextRevision;
  }

  stop(): void {
    if (this.stopCalled) return;
    this.stopCalled = true;
    this.stopped = true;
    this.ac.abort(new GomsError("watch stopped", Code.Canceled));
    this.queue.length = 0;
    this.error = undefined;
    this.drained?.();
    this.finish();
    this.onEnd(this);
  }

  next(): Promise<IteratorResult<KvEvent>> {
    const ev = this.queue.shift();
    if (ev !== undefined) {
      if (this.queue.length === 0) this.drained?.();
      return Promise.resolve({ done: false, value: ev });
    }
    if (this.error !== undefined) {
      const err = this.error;
      this.error = undefined;
      this.finished = true;
      return Promise.reject(err);
    }
    if (this.finished) return Promise.resolve(DONE);
    this.drained?.();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<KvEvent>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let res: WatchPollResponse;
      try {
        res = await this.pollFn(
          {
            filter: { case: "prefix", value: this.prefix },
            fromRevision: BigInt(this.nextRevision),
            maxEvents: this.o.maxEvents,
            waitMs: this.o.waitMs,
          },
          this.ac.signal,
        );
      } catch (e) {
        if (this.stopped) return;
        const err = GomsError.from(e);
        if (FATAL.has(err.code)) {
          this.end(err);
          return;
        }
        await sleep(backoffDelay(attempt++, this.o.backoff), this.ac.signal);
        continue;
      }
      attempt = 0;
      if (this.stopped) return;
      this.nextRevision = Number(res.nextRevision);
      if (res.events.length > 0) {
        this.deliver(res.events.map(wireToKvEvent));
        await this.consumed();
      }
    }
  }

  private deliver(events: KvEvent[]): void {
    for (const ev of events) {
      const w = this.waiters.shift();
      if (w !== undefined) w.resolve({ done: false, value: ev });
      else this.queue.push(ev);
    }
  }

  /** Resolves once the consumer has taken every queued event (or the watch stopped). */
  private consumed(): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        resolve();
      };
    });
  }

  /** Ends the watch with `err` after the queued events. */
  private end(err: GomsError): void {
    this.stopped = true;
    this.onEnd(this);
    const w = this.waiters.shift();
    if (w !== undefined) {
      this.finished = true;
      w.reject(err);
      this.finish();
      return;
    }
    this.error = err;
  }

  private finish(): void {
    this.finished = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(DONE);
  }
}
