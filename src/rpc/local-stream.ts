import { clone, create, isMessage, type DescMessage } from "@bufbuild/protobuf";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { StreamIO, StreamKind } from "../internal/conn/stream-driver.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import type { StreamCounters } from "../internal/conn/stream-counters.js";

/** Messages a served in-process stream may have waiting for its caller: the in-process window. */
export const LOCAL_STREAM_WINDOW = 16;

/** A copy the receiving side owns: a clone of a message, or a new message from an init shape. */
export function own(desc: DescMessage, value: unknown): unknown {
  return isMessage(value, desc) ? clone(desc, value) : create(desc, value as never);
}

/**
 * An in-process stream's two directions, with the semantics of a network
 * stream but no encoding: each message is cloned as it crosses. The handler
 * pulls the caller's messages one at a time (the caller's producer runs only
 * as fast as the handler reads), and what the handler yields waits in a queue
 * of LOCAL_STREAM_WINDOW messages: a full queue suspends the handler at its
 * yield until the caller takes one.
 */
export class LocalStreamIO implements StreamIO {
  readonly input: AsyncIterableIterator<unknown>;
  /** What the caller iterates. */
  readonly output: AsyncQueue<unknown>;
  /** Settles once when the stream ends, read or not (see StreamCallResult.ended). */
  readonly ended: Promise<GomsError | undefined>;
  private reportEnd: ((err: GomsError | undefined) => void) | undefined;
  private failed: GomsError | undefined;
  private space: { resolve(): void; reject(e: Error): void } | undefined;
  private source: AsyncIterator<unknown> | undefined;

  constructor(
    readonly kind: StreamKind,
    private readonly input_: DescMessage,
    private readonly outputDesc: DescMessage,
    message: unknown,
    /** The caller stopped iterating (a `for await` that breaks). */
    onCallerStop: () => void,
    /** The node's stream counters: a message that crosses is both sent and received by this node. */
    private readonly counters: StreamCounters,
  ) {
    counters.opened++;
    let finished = false;
    this.output = new AsyncQueue<unknown>({
      onClose: () => {
        if (!finished) onCallerStop();
      },
      onDrain: () => this.wake(),
    });
    this.markFinished = () => void (finished = true);
    this.ended = new Promise((resolve) => (this.reportEnd = resolve));
    this.input = kind === "server_streaming" ? this.one(message) : this.pull(message as AsyncIterable<unknown>);
  }

  private readonly markFinished: () => void;

  private async *one(message: unknown): AsyncGenerator<unknown> {
    this.crossed();
    yield own(this.input_, message);
  }

  private async *pull(source: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    this.source = source[Symbol.asyncIterator]();
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      const r = await this.source.next();
      if (r.done === true) return;
      this.crossed();
      yield own(this.input_, r.value);
    }
  }

  async send(message: unknown): Promise<void> {
    let waited = false;
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      if (this.output.length < LOCAL_STREAM_WINDOW) {
        if (!this.output.push(own(this.outputDesc, message ?? {}))) throw new GomsError("stream ended", Code.Canceled);
        this.crossed();
        if (waited) this.counters.windowWaits++;
        return;
      }
      waited = true;
      await new Promise<void>((resolve, reject) => (this.space = { resolve, reject }));
    }
  }

  /** One message crossed: this node sent it and received it. */
  private crossed(): void {
    this.counters.sent++;
    this.counters.received++;
  }

  stop(err: GomsError): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    const s = this.space;
    this.space = undefined;
    s?.reject(err);
    // The caller's own producer is told to stop too (its finally blocks run).
    void this.source?.return?.()?.catch(() => undefined);
  }

  /**
   * The handler is done, or the stream was stopped under it (CallScope
   * settled it either way, exactly once): the caller gets what is queued,
   * then the end or `err`; `ended` reports it now, whether or not the caller
   * reads on.
   */
  finish(err: GomsError | undefined): void {
    this.markFinished();
    if (err === undefined) this.output.end();
    else this.output.fail(err);
    if (this.failed === undefined) this.failed = err ?? new GomsError("stream ended", Code.Canceled);
    const report = this.reportEnd;
    this.reportEnd = undefined;
    report?.(err);
  }

  private wake(): void {
    const s = this.space;
    this.space = undefined;
    s?.resolve();
  }
}
