import { Code } from "../../errors/code.js";
import type { Writer } from "../../codec/writer.js";
import { GomsError } from "../../errors/goms-error.js";
import { FLAG_MORE, FrameType, MAX_TIMEOUT_MS } from "../wire/frame.js";
import { abortFrame, beginFrame, endFrame, putRequestHeader } from "../wire/headers.js";
import { readMetadata } from "../wire/metadata.js";
import type { CallResult, OutgoingCall } from "./pending.js";
import { decodeStatusError } from "./status.js";
import type { StreamKind } from "./stream-driver.js";
import { StreamInbox, StreamOutbox, type StreamWire } from "./stream-flow.js";

/** What the client side of streams needs from its connection. */
export interface ClientStreamHost extends StreamWire {
  /** This side's receive window and message limit; the peer's window and frame limit. */
  readonly window: number;
  readonly maxMessageBytes: number;
  peerWindow(): number;
  peerMaxFrame(): number;
  allocId(): number;
  frameDone(): void;
  writeEmptyFrame(type: number, id: number): void;
  /** True when `id` was never issued on this connection. */
  neverIssued(id: number): boolean;
  protocolError(message: string): void;
  /** A stream ended (the connection may close once nothing is in flight while draining). */
  settled(): void;
}

/**
 * What a caller that opened a stream with `full` gets: the responses, the ret
 * and metadata of a clean end (set before the responses say done), and
 * `ended`, which settles once when the stream ends, whether or not anyone
 * reads the responses: undefined for a clean end, else the stream's error
 * (the server's status, canceled, deadline exceeded, unavailable when the
 * connection is lost). The layers above (interceptors, tracing) learn of the
 * end from it even when the caller never takes the last messages.
 */
export interface StreamCallResult<T = unknown> extends CallResult<T> {
  readonly ended: Promise<GomsError | undefined>;
}

class ClientStream {
  ended = false;
  timer: NodeJS.Timeout | undefined;
  unwatch: (() => void) | undefined;
  /** What the caller got with `full`: its ret and metadata are set from a clean STREAM_END. */
  result: StreamCallResult | undefined;
  /** Settles `result.ended`; dropped once called. */
  reportEnd: ((err: GomsError | undefined) => void) | undefined;
  constructor(
    readonly id: number,
    readonly inbox: StreamInbox,
    readonly out: StreamOutbox,
  ) {}
}

/**
 * The streams a client connection opened (docs/protocol.md §15): STREAM_OPEN,
 * the pump that sends the caller's messages within the window then
 * HALF_CLOSE, the responses handed to the caller's `for await`, and the ways a
 * stream ends: STREAM_END, the caller breaking out or aborting (CANCEL), the
 * deadline, GOAWAY and the connection closing.
 */
export class ClientStreams {
  private readonly open = new Map<number, ClientStream>();

  constructor(private readonly host: ClientStreamHost) {}

  get size(): number {
    return this.open.size;
  }

  /** Opens a stream; resolves at once with the iterable of responses (or a CallResult carrying it, with `full`). */
  start(c: OutgoingCall, kind: StreamKind, timeoutMs: number, full: boolean): Promise<unknown> {
    const h = this.host;
    const id = h.allocId();
    const w = h.writer;
    const rel = beginFrame(w, FrameType.StreamOpen, 0, id, 16 + c.route.path.length);
    try {
      putRequestHeader(w, Math.min(timeoutMs, MAX_TIMEOUT_MS), c.route.req.wire, c.route.path, c.metadata);
    } catch (err) {
      abortFrame(w, rel);
      return Promise.reject(GomsError.from(err, Code.InvalidArgument));
    }
    endFrame(w, rel);
    h.frameDone();
    const res = c.route.res;
    const cancelWith = (err: GomsError): void => {
      const open = this.open.get(id);
      if (open !== undefined) this.cancel(open, err);
    };
    const inbox = new StreamInbox(
      id,
      h.window,
      h.maxMessageBytes,
      (b, st, e) => res.decode(b, st, e),
      h,
      () => cancelWith(new GomsError("stream canceled by the caller", Code.Canceled, { reason: "GOMS_ERR_CANCELED" })),
      // The server sent a message the caller could not decode: the stream is canceled on the wire too.
      cancelWith,
    );
    const s = new ClientStream(id, inbox, new StreamOutbox(id, h.peerWindow(), h.peerMaxFrame(), h));
    this.open.set(id, s);
    h.counters.opened++;
    if (timeoutMs > 0) {
      s.timer = setTimeout(() => this.cancel(s, new GomsError(`deadline of ${timeoutMs}ms exceeded`, Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" })), timeoutMs);
      s.timer.unref();
    }
    const signal = c.signal;
    if (signal !== undefined) {
      const onAbort = (): void => this.cancel(s, GomsError.from(signal.reason, Code.Canceled));
      signal.addEventListener("abort", onAbort, { once: true });
      s.unwatch = () => signal.removeEventListener("abort", onAbort);
    }
    void this.pump(s, c, kind);
    if (!full) return Promise.resolve(inbox);
    s.result = { message: inbox, ret: 0, metadata: {}, ended: new Promise((resolve) => (s.reportEnd = resolve)) };
    return Promise.resolve(s.result);
  }

  /** Sends the caller's message(s), each within the window, then HALF_CLOSE. */
  private async pump(s: ClientStream, c: OutgoingCall, kind: StreamKind): Promise<void> {
    const req = c.route.req;
    const encode = (message: unknown, w: Writer): void => {
      try {
        req.encode(message, w);
      } catch (err) {
        throw GomsError.from(err, Code.InvalidArgument);
      }
    };
    try {
      if (kind === "server_streaming") await s.out.sendMessage(encode, c.message);
      else {
        for await (const m of c.message as AsyncIterable<unknown>) {
          if (s.ended) break;
          await s.out.sendMessage(encode, m);
        }
      }
      if (!s.ended) this.host.writeEmptyFrame(FrameType.HalfClose, s.id);
    } catch (err) {
      // The caller's own iterable failed (or was not one): the stream is canceled with its error.
      this.cancel(s, GomsError.from(err, Code.Canceled));
    }
  }

  /** Gives up on stream `s` locally: CANCEL to the server, `err` to the caller. */
  cancel(s: ClientStream, err: GomsError): void {
    if (s.ended) return;
    this.host.writeEmptyFrame(FrameType.Cancel, s.id);
    this.finish(s, err);
    s.inbox.fail(err);
  }

  /** STREAM_MESSAGE, STREAM_END or WINDOW_UPDATE from the server. */
  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const s = this.open.get(id);
    if (s === undefined) {
      // Late frames of a stream this side canceled are expected; frames for an id never issued are not.
      if (this.host.neverIssued(id)) this.host.protocolError(`frame type ${type} for stream ${id} that was never opened`);
      return;
    }
    let bad: string | undefined;
    if (type === FrameType.StreamMessage) bad = s.inbox.onChunk(buf, start, end, (flags & FLAG_MORE) !== 0);
    else if (type === FrameType.WindowUpdate) bad = s.out.onWindowUpdate(buf, start, end);
    else bad = this.onEnd(s, buf, start, end);
    if (bad !== undefined) this.host.protocolError(bad);
  }

  /** STREAM_END: u8 status | u16 ret | u16 mdLen | metadata | payload (goms.v1.Status when status != 0). */
  private onEnd(s: ClientStream, buf: Buffer, start: number, end: number): string | undefined {
    if (end - start < 5) return "short STREAM_END header";
    const status = buf[start]!;
    const ret = buf.readUInt16BE(start + 1);
    const mdEnd = start + 5 + buf.readUInt16BE(start + 3);
    if (mdEnd > end) return "STREAM_END metadata past frame end";
    let md;
    try {
      md = readMetadata(buf, start + 5, mdEnd);
    } catch (err) {
      return (err as Error).message;
    }
    if (status === 0) {
      // Before the inbox says done: whoever sees the end reads them off the result.
      if (s.result !== undefined) {
        s.result.ret = ret;
        s.result.metadata = md;
      }
      this.finish(s, new GomsError("stream ended", Code.Canceled), true);
      s.inbox.end();
    } else {
      const err = decodeStatusError(status, buf, mdEnd, end, ret, md);
      this.finish(s, err);
      s.inbox.fail(err);
    }
    return undefined;
  }

  /** Ends every stream whose id `which` picks (GOAWAY, connection lost) with `err`. */
  fail(which: (id: number) => boolean, err: GomsError): void {
    for (const s of [...this.open.values()]) {
      if (!which(s.id)) continue;
      this.finish(s, err);
      s.inbox.fail(err);
    }
  }

  /**
   * The one place a stream ends, however it ends: `err` is what the request
   * pump is failed with; `clean` says the server ended it with status OK (then
   * `ended` reports no error).
   */
  private finish(s: ClientStream, err: GomsError, clean = false): void {
    s.ended = true;
    this.open.delete(s.id);
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.unwatch?.();
    s.out.fail(err);
    const report = s.reportEnd;
    s.reportEnd = undefined;
    report?.(clean ? undefined : err);
    this.host.settled();
  }
}
