import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { getCodec } from "../../codec/index.js";
import { StatusSchema } from "../../gen/goms/v1/node_pb.js";
import type { Writer } from "../../codec/writer.js";
import { FLAG_MORE, FrameType, PayloadCodec } from "../wire/frame.js";
import { beginFrame, endFrame, putStreamEndHeader } from "../wire/headers.js";
import type { Metadata } from "../wire/metadata.js";
import type { CallScope } from "./call-scope.js";
import type { ServerMethod } from "./dispatcher.js";
import type { ServerCall } from "./server-call.js";
import type { StreamIO, StreamKind } from "./stream-driver.js";
import { StreamInbox, StreamOutbox, type StreamWire } from "./stream-flow.js";

const statusCodec = getCodec(StatusSchema);

/** Writes a whole STREAM_END frame: status 0, or `err` as a goms.v1.Status payload. */
export function putStreamEnd(w: Writer, id: number, err: GomsError | undefined, ret: number, md: Metadata | undefined): void {
  const rel = beginFrame(w, FrameType.StreamEnd, 0, id, 16);
  if (err === undefined) {
    putStreamEndHeader(w, 0, ret & 0xffff, md);
  } else {
    const merged = Object.keys(err.metadata).length ? { ...md, ...err.metadata } : md;
    putStreamEndHeader(w, err.code, (err.ret || ret) & 0xffff, merged);
    statusCodec.encodeInto({ code: err.code, message: err.rawMessage, details: err.details.map((d) => ({ typeUrl: d.type, value: d.value })), reason: err.reason ?? "" }, w);
  }
  endFrame(w, rel);
}

/** What the server side of streams needs from its connection. */
export interface ServerStreamHost extends StreamWire {
  /** This side's receive window and message limit; the peer's window and frame limit. */
  readonly window: number;
  readonly maxMessageBytes: number;
  readonly maxStreams: number;
  peerWindow(): number;
  peerMaxFrame(): number;
  frameDone(): void;
  /** True when `id` was never opened (after the last id read, in serial order). */
  neverOpened(id: number): boolean;
  protocolError(message: string): void;
}

/** One stream being served on a connection: the StreamIO its handler runs against. */
class ServerStream implements StreamIO {
  readonly id: number;
  readonly input: StreamInbox;
  readonly out: StreamOutbox;
  halfClosed = false;
  timer: NodeJS.Timeout | undefined;
  /** Encodes one response message into the connection's output (one function per stream, not a closure per message). */
  private readonly encode: (message: unknown, w: Writer) => void;

  constructor(
    readonly kind: StreamKind,
    call: ServerCall,
    entry: ServerMethod,
    host: ServerStreamHost,
    private readonly onStop: (s: ServerStream, err: GomsError) => void,
  ) {
    this.id = call.id;
    const json = call.wire === PayloadCodec.Json;
    const decode = json
      ? (buf: Buffer, s: number, e: number) => entry.json.fromJson(buf.toString("utf8", s, e))
      : (buf: Buffer, s: number, e: number) => entry.input.decode(buf, s, e);
    this.input = new StreamInbox(call.id, host.window, host.maxMessageBytes, decode, host, () => undefined);
    this.out = new StreamOutbox(call.id, host.peerWindow(), host.peerMaxFrame(), host);
    const encodeInto = json
      ? (m: unknown, w: Writer) => {
          const text = entry.json.toJson(m);
          w.ensure(Buffer.byteLength(text));
          w.pos += w.buf.write(text, w.pos, "utf8");
        }
      : (m: unknown, w: Writer) => entry.output.encodeInto(m as never, w);
    this.encode = (message, w) => {
      try {
        encodeInto(message ?? {}, w);
      } catch (e) {
        throw new GomsError(`handler yielded an unencodable ${entry.method.output.typeName}: ${(e as Error).message}`, Code.Internal, { cause: e });
      }
    };
  }

  send(message: unknown): Promise<void> {
    return this.out.sendMessage(this.encode, message);
  }

  stop(err: GomsError): void {
    this.onStop(this, err);
  }
}

/**
 * The streams served on one server connection (docs/protocol.md §15): opening
 * (the stream limit, the deadline), the frames that follow (messages,
 * half-close, window updates) and STREAM_END. Handlers run through the
 * connection's CallScope like unary calls.
 */
export class ServerStreams {
  private readonly open = new Map<number, ServerStream>();

  constructor(
    private readonly host: ServerStreamHost,
    private readonly scope: CallScope,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** A STREAM_OPEN whose method was found: runs it, unless the connection has maxStreams open already. */
  start(call: ServerCall, entry: ServerMethod): void {
    if (this.open.size >= this.host.maxStreams) {
      putStreamEnd(this.host.writer, call.id, new GomsError(`too many concurrent streams (limit ${this.host.maxStreams})`, Code.ResourceExhausted, { reason: "GOMS_ERR_TOO_MANY_CALLS" }), 0, undefined);
      this.host.frameDone();
      return;
    }
    const s = new ServerStream(entry.method.methodKind as StreamKind, call, entry, this.host, (st, err) => this.forget(st, err));
    call.stream = s;
    this.open.set(call.id, s);
    this.host.counters.opened++;
    const left = call.timeRemaining();
    if (left !== undefined) {
      // The deadline ends the stream even while its handler is busy elsewhere (a producer that never yields).
      s.timer = setTimeout(() => {
        const err = new GomsError("deadline exceeded", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" });
        call.abort(err);
        this.scope.settle(call, entry, undefined, err);
      }, left);
      s.timer.unref();
    }
    this.scope.run(call, entry, undefined);
  }

  /** STREAM_MESSAGE, HALF_CLOSE or WINDOW_UPDATE from the client. */
  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const s = this.open.get(id);
    if (s === undefined) {
      // Frames for a stream that ended are expected (they crossed its STREAM_END); for one never opened they are not.
      if (id === 0 || this.host.neverOpened(id)) this.host.protocolError(`frame type ${type} for stream ${id} that was never opened`);
      return;
    }
    let bad: string | undefined;
    if (type === FrameType.StreamMessage) {
      bad = s.halfClosed ? `STREAM_MESSAGE on stream ${id} after HALF_CLOSE` : s.input.onChunk(buf, start, end, (flags & FLAG_MORE) !== 0);
    } else if (type === FrameType.HalfClose) {
      if (end !== start) bad = `HALF_CLOSE with a ${end - start}-byte body (must be empty)`;
      else if (s.halfClosed) bad = `second HALF_CLOSE on stream ${id}`;
      else {
        s.halfClosed = true;
        s.input.end();
      }
    } else bad = s.out.onWindowUpdate(buf, start, end);
    if (bad !== undefined) this.host.protocolError(bad);
  }

  /** The CallScope settled a stream: its STREAM_END (nothing when the connection is gone). */
  end(call: ServerCall, err: GomsError | undefined): GomsError | undefined {
    const s = this.open.get(call.id);
    if (s !== undefined) this.forget(s, err ?? new GomsError("stream ended", Code.Canceled));
    if (this.host.closed) return err;
    putStreamEnd(this.host.writer, call.id, err, call.ret, call.responseMetadataIfSet);
    this.host.frameDone();
    return err;
  }

  private forget(s: ServerStream, err: GomsError): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    this.open.delete(s.id);
    s.out.fail(err);
    s.input.fail(err);
  }
}
