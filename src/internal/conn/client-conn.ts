import type { StreamCounters } from "./stream-counters.js";
import { CallTable } from "./call-table.js";
import { SignalWatch } from "./signal-watch.js";
import { Pending, type CallObserver, type CallResult, type OutgoingCall } from "./pending.js";

export type { CallObserver, CallResult, ClientMethod, OutgoingCall } from "./pending.js";
import { Code, isCode } from "../../errors/code.js";
import { decodeStatusError } from "./status.js";
import { ClientStreams } from "./client-streams.js";
import { GomsError } from "../../errors/goms-error.js";
import { getCodec } from "../../codec/index.js";
import { HelloSchema, type Hello, type NodeIdentity } from "../../gen/goms/v1/node_pb.js";
import { callIdAfter, DEFAULT_STREAM_WINDOW, FrameType, FLAG_NO_REPLY, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, MAX_TIMEOUT_MS } from "../wire/frame.js";
import { abortFrame, beginFrame, endFrame, putRequestHeader } from "../wire/headers.js";
import { type Metadata, readMetadata } from "../wire/metadata.js";
import type { Stream } from "../transport/types.js";
import { Conn } from "./conn.js";

/** How close to its deadline an error answer counts as the deadline passing (see onResponse). */
const DEADLINE_SLACK_MS = 2;
import type { ConnOptions } from "./options.js";

const helloCodec = getCodec(HelloSchema);

/**
 * The listener holds the connection weakly: a long-lived signal (an app-wide
 * shutdown signal, say) must not keep closed connections alive.
 */
function newWatch(signal: AbortSignal, conn: WeakRef<ClientConn>): SignalWatch {
  return new SignalWatch(signal, (members) => {
    const c = conn.deref();
    if (c === undefined) return;
    const err = GomsError.from(signal.reason, Code.Canceled);
    for (const m of members) c.abandon((m as Pending).id, err);
  });
}

function onDeadlineTimer(conn: ClientConn): void {
  conn.expire();
}

export interface ClientConnEvents {
  onReady(conn: ClientConn): void;
  onClose(conn: ClientConn, err: GomsError): void;
  onGoAway(conn: ClientConn): void;
  /** Where this connection counts its streams: the node's, shared by all its connections. */
  readonly streamCounters: StreamCounters;
}

/** The dialling side of a connection: issues calls, matches responses by call id. */
export class ClientConn extends Conn {
  private readonly pending = new CallTable<Pending>();
  /** Abort listeners by signal (see SignalWatch); weak, so a signal's watch goes when the signal does. */
  private readonly watches = new WeakMap<AbortSignal, SignalWatch>();
  private nextId = 1;
  private readonly events: ClientConnEvents;
  /** The server's HELLO, once received. */
  remote: Hello | undefined;
  /** Diagnostics hook, set by the node. */
  observer: CallObserver | undefined;
  /** Server's frame limit (from HELLO); requests above it fail locally. */
  private peerMaxFrame = 16 * 1024 * 1024;
  /** One timer per connection (not per call), armed for the earliest pending deadline; re-armed for the next when it fires. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  /** Call ids wrapped around at least once; until then an id >= nextId was never issued. */
  private idsWrapped = false;
  /** Streams opened on this connection (docs/protocol.md §15); they share the call-id space. */
  private readonly streams: ClientStreams;
  /** Unary answers received: streams on this connection take short turns and a small window while it moves (stream-flow.ts). */
  private unaryAnswered = 0;

  constructor(stream: Stream, opts: ConnOptions, hello: Hello, events: ClientConnEvents) {
    super(stream, opts);
    this.events = events;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the stream host's getter reads the live flag
    const conn = this;
    this.streams = new ClientStreams({
      window: opts.streamWindow,
      maxMessageBytes: opts.maxFrameSize,
      peerWindow: () => this.remote?.streamWindow || DEFAULT_STREAM_WINDOW,
      peerMaxFrame: () => this.peerMaxFrame,
      allocId: () => this.allocId(),
      writer: this.writer,
      frameDone: () => this.frameWritten(false),
      neverIssued: (id) => id === 0 || (!this.idsWrapped && id >= this.nextId),
      protocolError: (m) => this.protocolError(m),
      settled: () => this.afterSettle(),
      writeEmptyFrame: (type, id) => this.writeEmptyFrame(type, id),
      writeStreamChunk: (id, b, o, n, more) => this.writeStreamChunk(id, b, o, n, more),
      streamFrameWritten: (n) => this.streamFrameWritten(n),
      writeWindowUpdate: (id, n) => this.writeWindowUpdate(id, n),
      whenWritable: () => this.whenWritable(),
      get closed() {
        return conn.closed;
      },
      get unaryCalls() {
        return conn.unaryAnswered;
      },
      counters: events.streamCounters,
    });
    this.writePreface(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION);
    const w = this.writer;
    const rel = beginFrame(w, FrameType.Hello, 0, 0, 128);
    helloCodec.encodeInto(hello, w);
    endFrame(w, rel);
    this.flush();
  }

  get remoteNode(): NodeIdentity | undefined {
    return this.remote?.node;
  }

  get inflight(): number {
    return this.pending.size;
  }

  get ready(): boolean {
    return this.remote !== undefined && !this.closed && !this.draining;
  }

  protected onPreface(buf: Buffer): string | undefined {
    const v = buf[4]!;
    if (v === 0) return "server supports none of the offered protocol versions";
    if (v < MIN_PROTOCOL_VERSION || v > PROTOCOL_VERSION) return `server chose unsupported protocol version ${v}`;
    return undefined;
  }

  /**
   * Starts a call with `timeoutMs` left of its deadline (0: none). Resolves
   * with the decoded response message (or, with `full`, a CallResult carrying
   * ret and metadata too); rejects with a GomsError. A one-way call resolves
   * once its frame is queued.
   */
  call(c: OutgoingCall, timeoutMs: number, full: boolean): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closeError ?? new GomsError("connection closed", Code.Unavailable, { reason: "GOMS_ERR_CONNECTION_LOST" }));
    if (this.draining) return Promise.reject(new GomsError("connection is draining (GOAWAY)", Code.Unavailable, { reason: "GOMS_ERR_NODE_DRAINING" }));
    const signal = c.signal;
    if (signal?.aborted) return Promise.reject(GomsError.from(signal.reason, Code.Canceled));
    if (this.bufferedBytes > this.opts.maxBufferedBytes) {
      return Promise.reject(new GomsError(`peer is not reading: ${this.bufferedBytes} bytes buffered`, Code.ResourceExhausted, { reason: "GOMS_ERR_PEER_NOT_READING" }));
    }
    if (c.stream !== undefined) return this.streams.start(c, c.stream, timeoutMs, full);
    const m = c.route;
    const noReply = c.oneWay;
    const id = this.allocId();
    const w = this.writer;
    const idle = this.pending.size === 0;
    if (timeoutMs > MAX_TIMEOUT_MS) timeoutMs = MAX_TIMEOUT_MS;
    const rel = beginFrame(w, FrameType.Request, noReply ? FLAG_NO_REPLY : 0, id, 16 + m.path.length);
    try {
      putRequestHeader(w, timeoutMs, m.req.wire, m.path, c.metadata);
      m.req.encode(c.message, w);
    } catch (err) {
      abortFrame(w, rel);
      return Promise.reject(GomsError.from(err, Code.InvalidArgument));
    }
    const len = endFrame(w, rel);
    if (len > this.peerMaxFrame) {
      abortFrame(w, rel);
      return Promise.reject(new GomsError(`request of ${len} bytes exceeds the peer's frame limit of ${this.peerMaxFrame}`, Code.ResourceExhausted, { reason: "GOMS_ERR_FRAME_TOO_LARGE" }));
    }
    if (noReply) {
      this.frameWritten(idle);
      return Promise.resolve(undefined);
    }
    const p = Pending.start(m, full);
    try {
      // One clock read serves both the deadline and the diagnostics start time.
      const obs = this.observer;
      const weight = obs === undefined ? -1 : obs.weight(m);
      const now = weight > 0 || timeoutMs > 0 ? performance.now() : 0;
      if (weight >= 0) {
        p.observer = obs;
        p.weight = weight;
        p.startedAt = now;
      }
      if (timeoutMs > 0) {
        const deadline = now + timeoutMs;
        p.deadline = deadline;
        p.timeoutMs = timeoutMs;
        if (deadline < this.armedAt) this.arm(deadline);
      }
      if (signal !== undefined) {
        p.id = id;
        this.watchFor(signal).join(p);
      }
      this.pending.set(id, p);
    } catch (err) {
      // A bad signal, say: the call fails like any other (the server's answer, if any, is dropped as late).
      this.pending.delete(id);
      p.cleanup();
      p.fail(GomsError.from(err, Code.InvalidArgument));
    }
    this.frameWritten(idle);
    return p.promise;
  }

  /** The id the next call or stream opened on this connection gets (a hedging caller cancels one copy by it). */
  get nextCallId(): number {
    return this.nextId;
  }

  private allocId(): number {
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    if (id === 0xffffffff) this.idsWrapped = true;
    return id;
  }

  private arm(deadline: number): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.armedAt = deadline;
    this.deadlineTimer = setTimeout(onDeadlineTimer, Math.max(1, Math.ceil(deadline - performance.now())), this);
    this.deadlineTimer.unref();
  }

  /** Abandons every call past its deadline and re-arms the timer for the next one. */
  expire(): void {
    this.deadlineTimer = undefined;
    this.armedAt = Infinity;
    if (this.closed) return;
    const now = performance.now();
    let next = Infinity;
    for (const [id, p] of this.pending.entries()) {
      if (p.deadline <= now) this.abandon(id, new GomsError(`deadline of ${p.timeoutMs}ms exceeded`, Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" }));
      else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Infinity) this.arm(next);
  }

  /** The one abort listener this connection keeps on `signal`, shared by every call that passes it. */
  private watchFor(signal: AbortSignal): SignalWatch {
    let w = this.watches.get(signal);
    if (w === undefined) {
      w = newWatch(signal, new WeakRef(this));
      this.watches.set(signal, w);
    }
    return w;
  }

  /** Gives up on call `id` locally (timeout, abort): removes it everywhere and tells the server. */
  abandon(id: number, err: GomsError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cleanup();
    this.writeEmptyFrame(FrameType.Cancel, id);
    p.fail(err);
    this.afterSettle();
  }

  protected onFrameReceived(type: number, _flags: number, callId: number, buf: Buffer, start: number, end: number): void {
    if (type === FrameType.Response) return this.onResponse(callId, buf, start, end);
    if (type === FrameType.Hello) return this.onHello(buf, start, end);
    if (type === FrameType.GoAway) return this.onGoAway(buf, start, end);
    if (type === FrameType.StreamMessage || type === FrameType.StreamEnd || type === FrameType.WindowUpdate) return this.streams.onFrame(type, _flags, callId, buf, start, end);
    this.protocolError(`unexpected frame type ${type} from server`);
  }

  private onHello(buf: Buffer, start: number, end: number): void {
    if (this.remote) return this.protocolError("duplicate HELLO");
    try {
      this.remote = helloCodec.decode(buf, start, end);
    } catch (err) {
      return this.protocolError(`malformed HELLO: ${(err as Error).message}`);
    }
    if (this.remote.maxFrameSize > 0) this.peerMaxFrame = this.remote.maxFrameSize;
    this.handshakeDone(this.remote.heartbeatMs);
    this.events.onReady(this);
  }

  /**
   * GOAWAY from the server. Code 0: the calls up to last_call_id (in serial
   * order) will still be answered; those sent after it were never processed
   * and fail now with unavailable, safe to retry elsewhere. Any other code: the
   * server closes right away, so every pending call fails (unavailable, or
   * resource_exhausted when the server cut us off for not reading).
   */
  private onGoAway(buf: Buffer, start: number, end: number): void {
    if (end - start < 5) return this.protocolError(`GOAWAY body of ${end - start} bytes (needs last_call_id and code)`);
    this.draining = true;
    const last = buf.readUInt32BE(start);
    const code = buf[start + 4]!;
    const message = buf.toString("utf8", start + 5, end);
    if (code !== 0) {
      // Calls in flight fail retry-safe (resource_exhausted when we were cut off for not
      // reading); the connection keeps the server's code for whoever asks why it closed.
      const cutOff = code === Code.ResourceExhausted;
      const failed = new GomsError(`server closed the connection: ${message}`, cutOff ? Code.ResourceExhausted : Code.Unavailable, {
        reason: cutOff ? "GOMS_ERR_PEER_NOT_READING" : "GOMS_ERR_CONNECTION_LOST",
      });
      this.failPending(() => true, failed);
      this.streams.fail(() => true, failed);
      this.destroy(isCode(code) && !cutOff ? new GomsError(`server closed the connection: ${message}`, code) : failed);
      return;
    }
    const gone = new GomsError(`server is going away: ${message}`, Code.Unavailable, { reason: "GOMS_ERR_NODE_DRAINING" });
    this.failPending((id) => callIdAfter(id, last), gone);
    this.streams.fail((id) => callIdAfter(id, last), gone);
    this.events.onGoAway(this);
    if (this.pending.size === 0 && this.streams.size === 0) this.destroy(new GomsError("server is going away", Code.Unavailable));
  }

  private failPending(which: (id: number) => boolean, err: GomsError): void {
    for (const [id, p] of this.pending.entries()) {
      if (!which(id)) continue;
      this.pending.delete(id);
      p.cleanup();
      p.fail(err);
    }
  }

  private onResponse(callId: number, buf: Buffer, start: number, end: number): void {
    const p = this.pending.get(callId);
    if (p === undefined) {
      // A late answer to a call that timed out or was canceled is fine; one to a call never made is not.
      if (callId === 0 || (!this.idsWrapped && callId >= this.nextId)) this.protocolError(`RESPONSE for call id ${callId} that was never issued`);
      return;
    }
    this.pending.delete(callId);
    p.cleanup();
    this.unaryAnswered++;
    if (end - start < 6) return this.failMalformed(p, "short RESPONSE header");
    const status = buf[start]!;
    const ret = buf.readUInt16BE(start + 2);
    const mdEnd = start + 6 + buf.readUInt16BE(start + 4);
    if (mdEnd > end) return this.failMalformed(p, "RESPONSE metadata past frame end");
    let metadata: Metadata;
    try {
      metadata = readMetadata(buf, start + 6, mdEnd);
    } catch (err) {
      return this.failMalformed(p, (err as Error).message);
    }
    if (status === 0) {
      let message: unknown;
      try {
        message = p.res.decode(buf, mdEnd, end);
      } catch (err) {
        p.fail(new GomsError(`undecodable response payload: ${(err as Error).message}`, Code.Internal, { reason: "GOMS_ERR_BAD_RESPONSE", cause: err, ret, metadata }));
        this.afterSettle();
        return;
      }
      p.ok(p.full ? ({ message, ret, metadata } satisfies CallResult) : message, ret);
    } else if (p.deadline !== Infinity && performance.now() >= p.deadline - DEADLINE_SLACK_MS) {
      // Our deadline has (all but) passed: whatever the server answered, typically
      // the handler's reaction to its own deadline, the outcome for the caller is
      // deadline_exceeded. The server's deadline can come up to ~1 ms before ours
      // (timeout_ms is whole milliseconds, and its timer may fire first), hence the slack.
      p.fail(new GomsError(`deadline of ${p.timeoutMs}ms exceeded`, Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED", ret, metadata }));
    } else {
      p.fail(decodeStatusError(status, buf, mdEnd, end, ret, metadata));
    }
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.draining && this.pending.size === 0 && this.streams.size === 0 && !this.closed) {
      this.destroy(new GomsError("server is going away", Code.Unavailable));
    }
  }

  private failMalformed(p: Pending, why: string): void {
    p.fail(new GomsError(`malformed response: ${why}`, Code.Internal, { reason: "GOMS_ERR_BAD_RESPONSE" }));
    this.protocolError(why);
  }

  /**
   * The server broke the protocol: it is told so (GOAWAY with `code`), but the
   * pending calls fail unavailable, as for any lost connection. They did nothing
   * wrong, so they must not see the invalid_argument meant for the server.
   */
  protected override protocolError(message: string, code: Code = Code.InvalidArgument): void {
    if (this.closed) return;
    this.sendGoAway(0, code, `protocol error: ${message}`);
    this.destroy(new GomsError(`protocol error: ${message}`, Code.Unavailable), true);
  }

  protected onClosed(err: GomsError): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const pending = this.pending.values();
    this.pending.clear();
    this.streams.fail(() => true, err);
    for (const p of pending) {
      p.cleanup();
      p.fail(err);
    }
    this.events.onClose(this, err);
  }
}
