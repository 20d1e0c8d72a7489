import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { HandlerContext, PeerInfo } from "./context.js";
import type { PayloadCodec } from "../wire/frame.js";
import type { Metadata } from "../wire/metadata.js";
import type { StreamIO } from "./stream-driver.js";

function expire(call: ServerCall): void {
  call.abort(new GomsError("deadline exceeded", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" }));
}

/** One call being served. Doubles as the handler's context; the signal is made lazily. */
export class ServerCall implements HandlerContext {
  ret = 0;
  done = false;
  /** Set by admission (CallScope): the start of the event-loop turn it was admitted in, or -1; and when its handler started. */
  admitTick = -1;
  admitAt = 0;
  /** When it entered the admission queue (performance.now()), or 0 if it did not wait there. */
  queuedAt = 0;
  /** Set for a streaming call: its two directions. */
  stream: StreamIO | undefined = undefined;
  private ac: AbortController | undefined = undefined;
  private abortReason: GomsError | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private rmd: Metadata | undefined = undefined;

  /** Deadline on the performance.now() clock; Infinity without one. */
  private readonly due: number;
  private epochDeadline: number | undefined;

  constructor(
    readonly id: number,
    readonly service: DescService,
    readonly method: DescMethod,
    /** The caller's timeout in ms; 0 = none. */
    timeoutMs: number,
    readonly metadata: Readonly<Metadata>,
    readonly peer: PeerInfo,
    readonly oneWay: boolean,
    readonly wire: PayloadCodec,
    /** performance.now() when the call arrived: the deadline counts from here, and diagnostics too. */
    readonly startedAt: number,
  ) {
    // On the clock already read for startedAt: no second clock read per call.
    this.due = timeoutMs > 0 ? startedAt + timeoutMs : Infinity;
  }

  /** Absolute deadline in epoch ms (Date.now() based), or undefined without one. Computed once, on first use. */
  get deadline(): number | undefined {
    if (this.due === Infinity) return undefined;
    return (this.epochDeadline ??= Date.now() + (this.due - performance.now()));
  }

  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController();
      if (this.abortReason !== undefined) this.ac.abort(this.abortReason);
      else if (this.due !== Infinity && !this.done) {
        const left = this.due - performance.now();
        if (left <= 0) expire(this);
        else {
          this.timer = setTimeout(expire, left, this);
          this.timer.unref();
        }
      }
    }
    return this.ac.signal;
  }

  timeRemaining(): number | undefined {
    return this.due === Infinity ? undefined : Math.max(0, this.due - performance.now());
  }

  /** Like timeRemaining() for a clock value already read (performance.now()); negative once past. */
  remainingAt(now: number): number | undefined {
    return this.due === Infinity ? undefined : this.due - now;
  }

  get responseMetadata(): Metadata {
    return (this.rmd ??= {});
  }

  /** Response metadata if any was set. */
  get responseMetadataIfSet(): Metadata | undefined {
    return this.rmd;
  }

  abort(reason: GomsError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.ac?.abort(reason);
    this.clearTimer();
    this.stream?.stop(reason);
  }

  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
