import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { getCodec } from "../../codec/index.js";
import { HelloSchema, StatusSchema, type Hello } from "../../gen/goms/v1/node_pb.js";
import type { PeerInfo } from "./context.js";
import { FLAG_NO_REPLY, FrameType, MIN_PROTOCOL_VERSION, PayloadCodec, PROTOCOL_VERSION } from "../wire/frame.js";
import { abortFrame, beginFrame, endFrame, putResponseHeader } from "../wire/headers.js";
import { emptyMetadata, type Metadata, readMetadata } from "../wire/metadata.js";
import type { AcceptInfo, Stream } from "../transport/types.js";
import { CallScope } from "./call-scope.js";
import { Conn } from "./conn.js";
import type { Dispatcher, ServerMethod } from "./dispatcher.js";
import type { ConnOptions } from "./options.js";
import { ServerCall } from "./server-call.js";

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
  private lastCallId = 0;
  private readonly d: Dispatcher;
  private readonly events: ServerConnEvents;
  private readonly info: AcceptInfo;
  private paused = false;

  constructor(stream: Stream, opts: ConnOptions, d: Dispatcher, info: AcceptInfo, events: ServerConnEvents) {
    super(stream, opts);
    this.d = d;
    this.info = info;
    this.events = events;
    this.peer = { address: info.remoteAddress, node: undefined, local: false, certificateCN: info.peerCertificateCN };
    this.scope = new CallScope(d, (call, entry, res, err) => this.answer(call, entry, res, err), () => events.onDrained(this));
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
        return this.onRequest(flags, callId, buf, start, end);
      case FrameType.Cancel:
        if (this.scope.calls.has(callId)) this.scope.cancel(callId, new GomsError("canceled by caller", Code.Canceled, { reason: "GOMS_ERR_CANCELED" }));
        return;
      case FrameType.GoAway:
        this.draining = true;
        this.scope.drain();
        return;
      default:
        return this.protocolError(`unexpected frame type ${type} from client`);
    }
  }

  private onHello(buf: Buffer, start: number, end: number): void {
    let hello: Hello;
    try {
      hello = helloCodec.decode(buf, start, end);
    } catch (err) {
      return this.protocolError(`malformed HELLO: ${(err as Error).message}`);
    }
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
    this.handshakeDone();
    this.events.onHello(this);
  }

  private onRequest(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const noReply = (flags & FLAG_NO_REPLY) !== 0;
    if (end - start < 8) return this.protocolError("short REQUEST header");
    const timeoutMs = buf.readUInt32BE(start);
    const wire = buf[start + 4]!;
    const mlen = buf[start + 5]!;
    let p = start + 6;
    if (p + mlen + 2 > end) return this.protocolError("REQUEST method past frame end");
    const path = buf.toString("latin1", p, p + mlen);
    p += mlen;
    const mdLen = buf.readUInt16BE(p);
    p += 2;
    if (p + mdLen > end) return this.protocolError("REQUEST metadata past frame end");
    let md: Metadata;
    try {
      md = mdLen === 0 ? emptyMetadata() : readMetadata(buf, p, p + mdLen);
    } catch (err) {
      return this.protocolError((err as Error).message);
    }
    p += mdLen;
    if (id === 0 || this.scope.calls.has(id)) return this.protocolError(`call id ${id} is zero or already in flight`);
    if (id > this.lastCallId) this.lastCallId = id;
    const startedAt = performance.now();
    const entry = this.scope.admit(path);
    if (entry instanceof GomsError) return this.reject(id, noReply, wire, entry);
    if (wire !== PayloadCodec.Proto && wire !== PayloadCodec.Json) {
      return this.reject(id, noReply, PayloadCodec.Proto, new GomsError(`unknown payload codec ${wire}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD" }));
    }
    let req: unknown;
    try {
      req = wire === PayloadCodec.Proto ? entry.input.decode(buf, p, end) : entry.json.fromJson(buf.toString("utf8", p, end));
    } catch (err) {
      return this.reject(id, noReply, wire, new GomsError(`cannot decode ${entry.method.input.typeName}: ${(err as Error).message}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD", cause: err }));
    }
    this.scope.run(new ServerCall(id, entry.service, entry.method, timeoutMs, md, this.peer, noReply, wire as PayloadCodec, startedAt), entry, req);
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
    const len = endFrame(w, rel);
    if (len > this.peerMaxFrame) {
      abortFrame(w, rel);
      rel = beginFrame(w, FrameType.Response, 0, call.id, 16);
      err = new GomsError(`response of ${len} bytes exceeds the caller's frame limit of ${this.peerMaxFrame}`, Code.ResourceExhausted, { reason: "GOMS_ERR_FRAME_TOO_LARGE" });
      this.putError(call, err);
      endFrame(w, rel);
    }
    this.frameWritten(this.scope.calls.size === 0);
    return err;
  }

  private putError(call: ServerCall, err: GomsError): void {
    const md = call.responseMetadataIfSet;
    const merged = Object.keys(err.metadata).length ? { ...md, ...err.metadata } : md;
    putResponseHeader(this.writer, err.code, call.wire, err.ret & 0xffff, merged);
    statusCodec.encodeInto(
      { code: err.code, message: err.rawMessage, details: err.details.map((d) => ({ typeUrl: d.type, value: d.value })) },
      this.writer,
    );
  }

  /** Answers a call that never reached a handler. */
  private reject(id: number, noReply: boolean, wire: number, err: GomsError): void {
    if (noReply) return;
    const w = this.writer;
    const rel = beginFrame(w, FrameType.Response, 0, id, 16);
    putResponseHeader(w, err.code, wire === PayloadCodec.Json ? PayloadCodec.Json : PayloadCodec.Proto, err.ret, undefined);
    statusCodec.encodeInto({ code: err.code, message: err.rawMessage }, w);
    endFrame(w, rel);
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

  protected override onBackpressure(): void {
    if (this.paused || this.stream.writableLength <= this.opts.maxBufferedBytes) return;
    // The peer is not reading its responses: stop reading its requests until the socket drains.
    // Pausing the socket alone is not enough: one read can hold thousands of pipelined
    // requests, so the parser stops dispatching too and keeps the rest for later.
    this.paused = true;
    this.parser.pause();
    this.stream.pause();
    this.stream.once("drain", () => {
      this.paused = false;
      if (this.closed) return;
      this.resumeParsing();
      if (!this.paused && !this.closed) this.stream.resume();
    });
  }

  protected onClosed(err: GomsError): void {
    this.scope.abortAll(new GomsError(`connection closed: ${err.rawMessage}`, Code.Canceled));
    this.events.onClose(this);
  }
}
