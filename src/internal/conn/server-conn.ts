import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { getCodec } from "../../codec/index.js";
import { HelloSchema, StatusSchema, type Hello } from "../../gen/goms/v1/node_pb.js";
import type { PeerInfo } from "./context.js";
import { callIdAfter, DEFAULT_STREAM_WINDOW, FLAG_NO_REPLY, FrameType, MAX_NODE_NAME_BYTES, MIN_MAX_FRAME_SIZE, MIN_PROTOCOL_VERSION, PayloadCodec, PROTOCOL_VERSION } from "../wire/frame.js";
import { abortFrame, beginFrame, endFrame, putResponseHeader, readCallHeader, type CallHeader } from "../wire/headers.js";
import { emptyMetadata } from "../wire/metadata.js";
import type { AcceptInfo, Stream } from "../transport/types.js";
import { CallScope } from "./call-scope.js";
import { Conn } from "./conn.js";
import type { Dispatcher, ServerMethod } from "./dispatcher.js";
import type { ConnOptions } from "./options.js";
import { ServerCall } from "./server-call.js";
import { putStreamEnd, ServerStreams } from "./server-streams.js";

const helloCodec = getCodec(HelloSchema);
const statusCodec = getCodec(StatusSchema);

export interface ServerConnEvents {
  onHello(conn: ServerConn): void;
  onClose(conn: ServerConn): void;
  /** All in-flight calls finished while draining. */
  onDrained(conn: ServerConn): void;
}

/** The accepting side of a connection: decodes requests, runs handlers, writes responses. */
export class ServerConn extends Conn {
  /** Admission, invocation and settling of this connection's calls. */
  readonly scope: CallScope;
  remote: Hello | undefined;
  private peer: PeerInfo;
  private peerMaxFrame = 16 * 1024 * 1024;
  /** Id of the last REQUEST read (0 before the first): the GOAWAY watermark, and the floor for the next id. */
  private lastCallId = 0;
  /** The client sent GOAWAY code 0: it sends no more calls, and the connection closes once the calls in flight are answered. */
  private peerDone = false;
  /** Fires when the output stayed past the soft limit for stallTimeoutMs. */
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly d: Dispatcher;
  private readonly events: ServerConnEvents;
  private readonly info: AcceptInfo;
  private paused = false;
  /** The streams served on this connection (docs/protocol.md §15). */
  private readonly streams: ServerStreams;
  /** Reused by every REQUEST and STREAM_OPEN header read. */
  private readonly hdr: CallHeader = { timeoutMs: 0, codec: 0, path: "", metadata: emptyMetadata(), payloadStart: 0 };

  constructor(stream: Stream, opts: ConnOptions, d: Dispatcher, info: AcceptInfo, events: ServerConnEvents) {
    super(stream, opts);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the stream host's getter reads the live flag
    const conn = this;
    this.d = d;
    this.info = info;
    this.events = events;
    this.peer = { address: info.remoteAddress, node: undefined, local: false, certificateCN: info.peerCertificateCN };
    this.scope = new CallScope(d, (call, entry, res, err) => (call.stream === undefined ? this.answer(call, entry, res, err) : this.streams.end(call, err)), () => {
      if (this.peerDone) this.destroy(new GomsError("client finished (GOAWAY)", Code.Unavailable), true);
      else events.onDrained(this);
    });
    this.streams = new ServerStreams(
      {
        writer: this.writer,
        window: opts.streamWindow,
        maxMessageBytes: opts.maxFrameSize,
        maxStreams: opts.maxConcurrentStreams,
        peerWindow: () => this.remote?.streamWindow || DEFAULT_STREAM_WINDOW,
        peerMaxFrame: () => this.peerMaxFrame,
        frameDone: () => this.frameWritten(false),
        neverOpened: (id) => callIdAfter(id, this.lastCallId),
        protocolError: (m) => this.protocolError(m),
        writeStreamChunk: (id, b, o, n, more) => this.writeStreamChunk(id, b, o, n, more),
      streamFrameWritten: (n) => this.streamFrameWritten(n),
        writeWindowUpdate: (id, n) => this.writeWindowUpdate(id, n),
        whenWritable: () => this.whenWritable(),
        get closed() {
          return conn.closed;
        },
        get unaryCalls() {
          return d.unaryCalls;
        },
        counters: d.streamCounters,
      },
      this.scope,
    );
  }

  /** Calls being served on this connection. */
  get inflight(): number {
    return this.scope.calls.size;
  }

  protected onPreface(buf: Buffer): string | undefined {
    const min = buf[4]!;
    const max = buf[5]!;
    const chosen = Math.min(max, PROTOCOL_VERSION);
    const ok = chosen >= Math.max(min, MIN_PROTOCOL_VERSION);
    this.writePreface(ok ? chosen : 0, 0);
    return ok ? undefined : `no common protocol version (client offers ${min}..${max})`;
  }

  protected onFrameReceived(type: number, flags: number, callId: number, buf: Buffer, start: number, end: number): void {
    if (this.remote === undefined) {
      if (type !== FrameType.Hello) return this.protocolError(`expected HELLO, got frame type ${type}`);
      return this.onHello(buf, start, end);
    }
    switch (type) {
      case FrameType.Request:
        return this.onRequest(flags, callId, buf, start, end, false);
      case FrameType.StreamOpen:
        return this.onRequest(flags, callId, buf, start, end, true);
      case FrameType.StreamMessage:
      case FrameType.HalfClose:
      case FrameType.WindowUpdate:
        return this.streams.onFrame(type, flags, callId, buf, start, end);
      case FrameType.Cancel:
        if (end !== start) return this.protocolError(`CANCEL with a ${end - start}-byte body (must be empty)`);
        // The call is forgotten here: its handler's late result finds it done and sends nothing.
        if (this.scope.calls.has(callId)) this.scope.cancel(callId, new GomsError("canceled by caller", Code.Canceled, { reason: "GOMS_ERR_CANCELED" }));
        return;
      case FrameType.GoAway:
        return this.onGoAway(buf, start, end);
      case FrameType.Hello:
        return this.protocolError("duplicate HELLO");
      default:
        return this.protocolError(`unexpected frame type ${type} from client`);
    }
  }

  /**
   * GOAWAY from the client. Code 0: it sends no more calls; those in flight are
   * answered, then the connection closes. Any other code: the client is closing
   * at once, so the calls in flight are aborted.
   */
  private onGoAway(buf: Buffer, start: number, end: number): void {
    if (end - start < 5) return this.protocolError(`GOAWAY body of ${end - start} bytes (needs last_call_id and code)`);
    const code = buf[start + 4]!;
    if (code !== 0) {
      this.destroy(new GomsError(`client closed the connection: ${buf.toString("utf8", start + 5, end)}`, Code.Unavailable, { reason: "GOMS_ERR_CONNECTION_LOST" }));
      return;
    }
    this.draining = true;
    this.peerDone = true;
    this.scope.drain();
  }

  private onHello(buf: Buffer, start: number, end: number): void {
    let hello: Hello;
    try {
      hello = helloCodec.decode(buf, start, end);
    } catch (err) {
      return this.protocolError(`malformed HELLO: ${(err as Error).message}`);
    }
    const bad = helloProblem(hello);
    if (bad !== undefined) return this.protocolError(bad);
    const refused = this.d.admit(hello, this.info);
    if (refused !== undefined) {
      this.sendGoAway(0, refused.code, refused.rawMessage);
      this.destroy(refused, true);
      return;
    }
    this.remote = hello;
    if (hello.maxFrameSize > 0) this.peerMaxFrame = hello.maxFrameSize;
    this.peer = { ...this.peer, node: hello.node };
    const w = this.writer;
    const rel = beginFrame(w, FrameType.Hello, 0, 0, 128);
    helloCodec.encodeInto(this.d.hello(), w);
    endFrame(w, rel);
    this.flush();
    this.handshakeDone(hello.heartbeatMs);
    this.events.onHello(this);
  }

  /** A REQUEST, or (with `stream`) a STREAM_OPEN: the same header, admission and id rules. */
  private onRequest(flags: number, id: number, buf: Buffer, start: number, end: number, stream: boolean): void {
    const noReply = !stream && (flags & FLAG_NO_REPLY) !== 0;
    const h = this.hdr;
    const bad = readCallHeader(buf, start, end, h, stream ? "STREAM_OPEN" : "REQUEST");
    if (bad !== undefined) return this.protocolError(bad);
    const wire = h.codec;
    const p = h.payloadStart;
    // Ids increase in 32-bit serial number arithmetic (RFC 1982), 0 never used:
    // so "already in flight" cannot happen and GOAWAY's last_call_id splits calls cleanly.
    if (!callIdAfter(id, this.lastCallId) || this.scope.calls.has(id)) {
      return this.protocolError(id === 0 ? "call id 0 is not allowed" : `call id ${id} does not increase on ${this.lastCallId} (or is still in flight)`);
    }
    this.lastCallId = id;
    const startedAt = performance.now();
    const entry = this.scope.admit(h.path, stream);
    if (entry instanceof GomsError) return this.reject(id, noReply, wire, entry, stream);
    if (wire !== PayloadCodec.Proto && wire !== PayloadCodec.Json) {
      return this.reject(id, noReply, PayloadCodec.Proto, new GomsError(`unknown payload codec ${wire}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD" }), stream);
    }
    if (stream) {
      if (p !== end) return this.protocolError(`STREAM_OPEN with ${end - p} payload bytes (messages follow as STREAM_MESSAGE)`);
      return this.streams.start(new ServerCall(id, entry.service, entry.method, h.timeoutMs, h.metadata, this.peer, false, wire as PayloadCodec, startedAt), entry);
    }
    let req: unknown;
    try {
      req = wire === PayloadCodec.Proto ? entry.input.decode(buf, p, end) : entry.json.fromJson(buf.toString("utf8", p, end));
    } catch (err) {
      return this.reject(id, noReply, wire, new GomsError(`cannot decode ${entry.method.input.typeName}: ${(err as Error).message}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD", cause: err }));
    }
    this.scope.run(new ServerCall(id, entry.service, entry.method, h.timeoutMs, h.metadata, this.peer, noReply, wire as PayloadCodec, startedAt), entry, req);
  }

  /** Writes the RESPONSE frame of a settled call (the CallScope's answer). */
  private answer(call: ServerCall, entry: ServerMethod, res: unknown, err: GomsError | undefined): GomsError | undefined {
    if (call.oneWay || this.closed) return err;
    const w = this.writer;
    let rel = beginFrame(w, FrameType.Response, 0, call.id, 16);
    if (err === undefined) {
      try {
        putResponseHeader(w, 0, call.wire, call.ret & 0xffff, call.responseMetadataIfSet);
        if (call.wire === PayloadCodec.Proto) entry.output.encodeInto((res ?? {}) as never, w);
        else {
          const text = entry.json.toJson(res ?? {});
          w.ensure(Buffer.byteLength(text));
          w.pos += w.buf.write(text, w.pos, "utf8");
        }
      } catch (e) {
        abortFrame(w, rel);
        err = new GomsError(`handler returned an unencodable ${entry.method.output.typeName}: ${(e as Error).message}`, Code.Internal, { cause: e });
        rel = beginFrame(w, FrameType.Response, 0, call.id, 16);
      }
    }
    if (err !== undefined) this.putError(call, err);
    let len = endFrame(w, rel);
    if (len > this.peerMaxFrame) {
      abortFrame(w, rel);
      rel = beginFrame(w, FrameType.Response, 0, call.id, 16);
      err = new GomsError(`response of ${len} bytes exceeds the caller's frame limit of ${this.peerMaxFrame}`, Code.ResourceExhausted, { reason: "GOMS_ERR_FRAME_TOO_LARGE" });
      this.putError(call, err);
      len = endFrame(w, rel);
    }
    if (!this.withinOutputBound(len + 4)) {
      abortFrame(w, rel);
      this.peerNotReading();
      return err ?? new GomsError("response dropped: the caller is not reading", Code.ResourceExhausted, { reason: "GOMS_ERR_PEER_NOT_READING" });
    }
    this.frameWritten(this.scope.calls.size === 0);
    return err;
  }

  private putError(call: ServerCall, err: GomsError): void {
    const md = call.responseMetadataIfSet;
    const merged = Object.keys(err.metadata).length ? { ...md, ...err.metadata } : md;
    putResponseHeader(this.writer, err.code, call.wire, err.ret & 0xffff, merged);
    statusCodec.encodeInto(
      { code: err.code, message: err.rawMessage, details: err.details.map((d) => ({ typeUrl: d.type, value: d.value })), reason: err.reason ?? "" },
      this.writer,
    );
  }

  /** Answers a call (or, with `stream`, a stream) that never reached a handler. */
  private reject(id: number, noReply: boolean, wire: number, err: GomsError, stream = false): void {
    if (noReply) return;
    const w = this.writer;
    const rel = w.pos - w.start;
    if (stream) putStreamEnd(w, id, err, 0, undefined);
    else {
      const frame = beginFrame(w, FrameType.Response, 0, id, 16);
      putResponseHeader(w, err.code, wire === PayloadCodec.Json ? PayloadCodec.Json : PayloadCodec.Proto, err.ret, undefined);
      statusCodec.encodeInto({ code: err.code, message: err.rawMessage, reason: err.reason ?? "" }, w);
      endFrame(w, frame);
    }
    const len = w.pos - w.start - rel - 4;
    if (!this.withinOutputBound(len + 4)) {
      abortFrame(w, rel);
      return this.peerNotReading();
    }
    this.frameWritten(this.scope.calls.size === 0);
  }

  /** Stops taking calls: GOAWAY tells the client which calls will still be answered. */
  drain(message: string): void {
    if (this.closed) return;
    if (!this.draining) this.sendGoAway(this.lastCallId, 0, message);
    this.draining = true;
    this.flush();
    this.scope.drain();
  }

  /**
   * The output bound, checked for every frame this connection answers with.
   * `frameBytes` are already in the writer; the rest of bufferedBytes (socket
   * buffer, frames queued before) is what the peer has not read yet. Past twice
   * maxBufferedBytes the frame is refused, unless nothing else is waiting (a
   * single large answer to a reading peer is fine): memory per connection stays
   * under 2 x maxBufferedBytes + one frame, however many handlers finish.
   */
  private withinOutputBound(frameBytes: number): boolean {
    const before = this.bufferedBytes - frameBytes;
    return before === 0 || before + frameBytes <= 2 * this.opts.maxBufferedBytes;
  }

  /** The peer stopped reading while its answers piled up: tell it why, and close. */
  private peerNotReading(): void {
    if (this.closed) return;
    const buffered = this.bufferedBytes;
    // Frames not yet handed to the socket are dropped: the GOAWAY goes right behind what the socket holds.
    this.writer.take();
    this.sendGoAway(0, Code.ResourceExhausted, "peer not reading");
    // Read (and ignore) what the peer still sends: unread input would turn the final close into a reset.
    this.stream.resume();
    // The socket keeps what it holds (<= the hard limit) for stallTimeoutMs, so a peer that reads late still sees why.
    this.destroy(new GomsError(`peer not reading: ${buffered} bytes buffered`, Code.ResourceExhausted, { reason: "GOMS_ERR_PEER_NOT_READING" }), this.opts.stallTimeoutMs);
  }

  protected override onBackpressure(): void {
    if (this.paused || this.closed || this.stream.writableLength <= this.opts.maxBufferedBytes) return;
    // The peer is not reading its responses: stop reading its requests until the socket drains.
    // Pausing the socket alone is not enough: one read can hold thousands of pipelined
    // requests, so the parser stops dispatching too and keeps the rest for later.
    this.paused = true;
    this.parser.pause();
    this.stream.pause();
    this.stallTimer = setTimeout(() => this.peerNotReading(), this.opts.stallTimeoutMs);
    this.stallTimer.unref();
    this.stream.once("drain", () => {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
      this.paused = false;
      if (this.closed) return;
      this.resumeParsing();
      if (!this.paused && !this.closed) this.stream.resume();
    });
  }

  protected onClosed(err: GomsError): void {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.scope.abortAll(new GomsError(`connection closed: ${err.rawMessage}`, Code.Canceled));
    this.events.onClose(this);
  }
}

/** Why a client HELLO is malformed (docs/protocol.md §4), or undefined when it is fine. */
function helloProblem(hello: Hello): string | undefined {
  const name = hello.node?.name ?? "";
  if (name.length === 0) return "HELLO without node.name";
  if (Buffer.byteLength(name, "utf8") > MAX_NODE_NAME_BYTES) return `HELLO node.name longer than ${MAX_NODE_NAME_BYTES} bytes`;
  if (hello.maxFrameSize !== 0 && hello.maxFrameSize < MIN_MAX_FRAME_SIZE) return `HELLO max_frame_size ${hello.maxFrameSize} is below the minimum of ${MIN_MAX_FRAME_SIZE}`;
  return undefined;
}
