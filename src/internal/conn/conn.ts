import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { gomsError } from "../../errors/reasons.js";
import { Writer } from "../../codec/writer.js";
import { FrameParser, type FrameSink } from "../wire/parser.js";
import { FLAG_ACK, FLAG_MORE, FrameType, HANDSHAKE_FRAME_LIMIT, MAGIC, PING_BODY_SIZE, PREFACE_SIZE } from "../wire/frame.js";
import { beginFrame, endFrame } from "../wire/headers.js";
import type { Stream } from "../transport/types.js";
import type { ConnOptions } from "./options.js";

function onHeartbeatTimer(conn: Conn): void {
  conn.heartbeatDue();
}

/** Room below which stream frames are flushed before the next is encoded (see streamFrameWritten). */
const SLAB_MARGIN = 4096;

/**
 * What client and server connections share: the preface, frame parsing, the
 * adaptive write policy, heartbeats, GOAWAY and teardown.
 *
 * Write policy (see docs/protocol.md and docs/benchmarks.md): a frame written
 * while the connection is idle goes straight to the socket; frames written
 * while calls are in flight, or while a read burst is being processed, are
 * coalesced and flushed at the end of the burst / in a microtask, or as soon
 * as maxBatchFrames / maxBatchBytes are reached.
 */
export abstract class Conn implements FrameSink {
  readonly stream: Stream;
  readonly writer = new Writer();
  readonly opts: ConnOptions;
  protected readonly parser: FrameParser;
  closed = false;
  closeError: GomsError | undefined;
  /** True once GOAWAY was sent or received: no new calls on this connection. */
  draining = false;

  private preface: Buffer | undefined = Buffer.alloc(0);
  private inBurst = false;
  private scheduled = false;
  private batched = 0;
  /** True once this side's handshake is complete (see handshakeDone). Frames before it other than HELLO are protocol errors. */
  protected handshaken = false;
  /**
   * performance.now() of the last chunk received. The heartbeat timer is not
   * re-armed per chunk: when it fires it looks at this and re-arms itself for
   * the time still left, so receiving costs one clock read per chunk.
   */
  private lastRecv = 0;
  /** A PING was sent since the last chunk received. */
  private pinged = false;
  /** No byte received for this long closes the connection (max of own timeout, 3 x peer heartbeat). */
  private idleTimeoutMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    if (this.writer.pending > 0) this.flush();
  };
  /** A flush of stream frames is queued for after this turn of the event loop (see streamFrameWritten). */
  private streamFlushQueued = false;
  private readonly streamFlushTask = (): void => {
    this.streamFlushQueued = false;
    if (this.writer.pending > 0) this.flush();
  };

  constructor(stream: Stream, opts: ConnOptions) {
    this.stream = stream;
    this.opts = opts;
    // Until the handshake completes the frame limit is small: an unauthenticated
    // peer cannot make this side hold a large frame (the limit is raised in handshakeDone).
    this.parser = new FrameParser(this, Math.min(HANDSHAKE_FRAME_LIMIT, opts.maxFrameSize));
    this.idleTimeoutMs = opts.heartbeatTimeoutMs;
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("error", (err: Error) => this.destroy(new GomsError(`connection error: ${err.message}`, Code.Unavailable, { cause: err })));
    stream.on("close", () => this.destroy(new GomsError("connection closed by peer", Code.Unavailable)));
    stream.on("end", () => stream.end());
    this.handshakeTimer = setTimeout(() => {
      this.destroy(new GomsError(`handshake not completed within ${opts.handshakeTimeoutMs}ms`, Code.DeadlineExceeded));
    }, opts.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  /** Validates the peer's 8-byte preface. Returns an error message, or undefined when fine. */
  protected abstract onPreface(buf: Buffer): string | undefined;
  protected abstract onFrameReceived(type: number, flags: number, callId: number, buf: Buffer, start: number, end: number): void;
  protected abstract onClosed(err: GomsError): void;

  /**
   * Called once the handshake completes (`peerHeartbeatMs`: what the peer
   * announced in its HELLO, 0 for none): raises the frame limit and starts heartbeats.
   */
  protected handshakeDone(peerHeartbeatMs: number): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (this.handshaken || this.closed) return;
    this.handshaken = true;
    this.parser.maxFrameSize = this.opts.maxFrameSize;
    // A peer that pings rarely is not idle until it missed three of its own pings.
    this.idleTimeoutMs = Math.max(this.opts.heartbeatTimeoutMs, 3 * peerHeartbeatMs);
    this.armHeartbeat(this.lastRecv + this.opts.heartbeatMs - performance.now());
  }

  private armHeartbeat(delayMs: number): void {
    this.heartbeat = setTimeout(onHeartbeatTimer, Math.max(1, Math.ceil(delayMs)), this);
    this.heartbeat.unref();
  }

  protected writePreface(version: number, maxVersion: number): void {
    const b = Buffer.alloc(PREFACE_SIZE);
    b.writeUInt32BE(MAGIC, 0);
    b[4] = version;
    b[5] = maxVersion;
    this.stream.write(b);
  }

  private onData(chunk: Buffer): void {
    // A closed connection that still lingers (delivering its GOAWAY) ignores what it reads.
    if (this.closed) return;
    this.lastRecv = performance.now();
    this.pinged = false;
    if (this.preface !== undefined) {
      const got = Buffer.concat([this.preface, chunk]);
      if (got.length < PREFACE_SIZE) {
        this.preface = got;
        return;
      }
      this.preface = undefined;
      const problem = got.readUInt32BE(0) !== MAGIC ? "bad preface: not a goms peer" : this.onPreface(got.subarray(0, PREFACE_SIZE));
      if (problem !== undefined) {
        this.destroy(new GomsError(problem, Code.Unavailable));
        return;
      }
      if (got.length === PREFACE_SIZE) return;
      chunk = got.subarray(PREFACE_SIZE);
    }
    this.inBurst = true;
    try {
      this.parser.push(chunk);
    } finally {
      this.inBurst = false;
    }
    if (this.writer.pending > 0 && !this.closed) this.flush();
  }

  /** Hands out the frames the parser held back while paused, as one read burst. */
  protected resumeParsing(): void {
    this.inBurst = true;
    try {
      this.parser.resume();
    } finally {
      this.inBurst = false;
    }
    if (this.writer.pending > 0 && !this.closed) this.flush();
  }

  onFrame(type: number, flags: number, callId: number, buf: Buffer, start: number, end: number): void {
    if (this.closed) return;
    if (type === FrameType.Ping && this.handshaken) {
      if (end - start !== PING_BODY_SIZE) return this.protocolError(`PING body of ${end - start} bytes (must be ${PING_BODY_SIZE})`);
      // An ACK needs no matching: it only proves the peer is alive, which receiving it already did.
      if ((flags & FLAG_ACK) === 0) this.writePing(true, buf.subarray(start, end));
      return;
    }
    this.onFrameReceived(type, flags, callId, buf, start, end);
  }

  onFrameError(message: string): void {
    this.protocolError(message);
  }

  /** Sends GOAWAY with `code` and closes: for peers that broke the protocol. */
  protected protocolError(message: string, code: Code = Code.InvalidArgument): void {
    if (this.closed) return;
    this.sendGoAway(0, code, `protocol error: ${message}`);
    this.destroy(new GomsError(`protocol error: ${message}`, code, code === Code.InvalidArgument ? { reason: "GOMS_ERR_PROTOCOL_ERROR" } : {}), true);
  }

  /** Call after writing a frame into `writer`. `idle` means no other work is in flight. */
  protected frameWritten(idle: boolean): void {
    if (this.inBurst) {
      if (++this.batched >= this.opts.maxBatchFrames || this.writer.pending >= this.opts.maxBatchBytes) this.flush();
      return;
    }
    if (idle && !this.scheduled) {
      this.flush();
      return;
    }
    if (++this.batched >= this.opts.maxBatchFrames || this.writer.pending >= this.opts.maxBatchBytes) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /**
   * Call after writing a stream frame of `frameBytes`. A producer writes its
   * next message a few microtasks after the last one, so a flush in a
   * microtask would send every message on its own (a write syscall each).
   * Stream frames are flushed once maxBatchBytes are buffered, or once the
   * writer's slab may lack room for the next frame's encoding (growing it
   * would copy the whole batch), else after this turn of the event loop, with what
   * every producer wrote meanwhile: a producer's turn (StreamOutbox) goes out
   * in one write. Inside a read burst, or when a flush is already queued for other
   * frames, they ride along with those.
   */
  protected streamFrameWritten(frameBytes: number): void {
    if (this.inBurst || this.scheduled) {
      this.frameWritten(false);
      return;
    }
    const w = this.writer;
    // The room test has a margin: an encoder reserves room for a message's
    // worst case (every scalar field at its widest, 3 bytes per UTF-16 unit)
    // before writing it, and a reservation the slab can't meet grows it,
    // copying the whole pending batch (a 64 KiB copy every ~110 messages of
    // 581 bytes: 1.3% of a stream server's CPU).
    const room = Math.max(4 * frameBytes, SLAB_MARGIN);
    if (w.pending >= this.opts.maxBatchBytes || w.buf.length - w.pos < room) {
      // The next frames go on a new slab if this one is short: flushing each of them alone cost a write syscall per message.
      this.flush(room);
      return;
    }
    if (!this.streamFlushQueued) {
      this.streamFlushQueued = true;
      setImmediate(this.streamFlushTask);
    }
  }

  /** Writes everything buffered to the socket; the writer starts a new slab if less than `minRoom` is left. */
  flush(minRoom?: number): void {
    this.batched = 0;
    if (this.closed) {
      this.writer.take();
      return;
    }
    const out = this.writer.take(minRoom);
    if (out.length === 0) return;
    if (!this.stream.write(out)) this.onBackpressure();
  }

  /** The socket's buffer passed its high-water mark. Subclasses decide what to do. */
  protected onBackpressure(): void {}

  get bufferedBytes(): number {
    return this.stream.writableLength + this.writer.pending;
  }

  protected writePing(ack: boolean, payload: Uint8Array): void {
    const w = this.writer;
    const start = beginFrame(w, FrameType.Ping, ack ? FLAG_ACK : 0, 0, 8);
    w.buf.fill(0, w.pos, w.pos + 8);
    w.buf.set(payload.subarray(0, 8), w.pos);
    w.pos += 8;
    endFrame(w, start);
    this.frameWritten(false);
  }

  /** Queues one STREAM_MESSAGE frame carrying bytes[off, off + n) of a message (`more`: the message continues). */
  writeStreamChunk(id: number, bytes: Uint8Array, off: number, n: number, more: boolean): void {
    const w = this.writer;
    const rel = beginFrame(w, FrameType.StreamMessage, more ? FLAG_MORE : 0, id, n);
    w.buf.set(bytes.subarray(off, off + n), w.pos);
    w.pos += n;
    this.streamFrameWritten(endFrame(w, rel) + 4);
  }

  /** Queues a WINDOW_UPDATE granting `increment` more bytes on stream `id`. */
  writeWindowUpdate(id: number, increment: number): void {
    const w = this.writer;
    const rel = beginFrame(w, FrameType.WindowUpdate, 0, id, 4);
    w.buf.writeUInt32BE(increment >>> 0, w.pos);
    w.pos += 4;
    endFrame(w, rel);
    this.frameWritten(false);
  }

  /** Queues a frame without a body (CANCEL, HALF_CLOSE). */
  writeEmptyFrame(type: number, id: number): void {
    if (this.closed) return;
    endFrame(this.writer, beginFrame(this.writer, type, 0, id, 0));
    this.frameWritten(false);
  }

  /**
   * Streams wait here between messages while the peer is not reading at all:
   * undefined while the output is under maxBufferedBytes, else a promise that
   * resolves once the socket drained (or closed). Per-stream windows bound one
   * stream; this bounds all of them together.
   */
  whenWritable(): Promise<void> | undefined {
    if (this.closed || this.bufferedBytes <= this.opts.maxBufferedBytes) return undefined;
    this.flush();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
    });
  }

  /** Queues a GOAWAY frame. Call flush() to send it now. */
  sendGoAway(lastCallId: number, code: number, message: string): void {
    if (this.closed) return;
    this.draining = true;
    const w = this.writer;
    const msg = Buffer.from(message.slice(0, 1024), "utf8");
    const start = beginFrame(w, FrameType.GoAway, 0, 0, 5 + msg.length);
    w.buf.writeUInt32BE(lastCallId >>> 0, w.pos);
    w.buf[w.pos + 4] = code;
    msg.copy(w.buf, w.pos + 5);
    w.pos += 5 + msg.length;
    endFrame(w, start);
    this.frameWritten(false);
  }

  /**
   * The heartbeat timer fired: PING once heartbeatMs passed without receiving
   * anything, close once the idle timeout passed; otherwise sleep until the
   * next of those moments (data may have arrived since the timer was armed).
   */
  heartbeatDue(): void {
    this.heartbeat = undefined;
    if (this.closed) return;
    const now = performance.now();
    const quiet = now - this.lastRecv;
    if (quiet >= this.idleTimeoutMs) {
      this.sendGoAway(0, Code.Unavailable, "idle timeout");
      this.destroy(gomsError("GOMS_ERR_IDLE_TIMEOUT", { ms: this.idleTimeoutMs }), true);
      return;
    }
    if (!this.pinged && quiet >= this.opts.heartbeatMs) {
      this.pinged = true;
      const p = Buffer.alloc(PING_BODY_SIZE);
      p.writeDoubleBE(Date.now(), 0);
      this.writePing(false, p);
      this.flush();
    }
    this.armHeartbeat(this.lastRecv + (this.pinged ? this.idleTimeoutMs : this.opts.heartbeatMs) - now);
  }

  /**
   * Closes the connection; every pending call fails with `err`. Idempotent.
   * With `linger`, buffered frames (e.g. a GOAWAY) are still delivered before the socket closes
   * (for 1 s, or for `linger` ms when it is a number).
   */
  destroy(err: GomsError = new GomsError("connection closed", Code.Unavailable), linger: boolean | number = false): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.heartbeat = this.handshakeTimer = undefined;
    const rest = this.writer.take();
    if (linger && !this.stream.destroyed && this.stream.writable) {
      this.stream.end(rest);
      const t = setTimeout(() => this.stream.destroy(), linger === true ? 1000 : linger);
      t.unref();
      this.stream.once("close", () => clearTimeout(t));
    } else {
      this.stream.destroy();
    }
    this.onClosed(err);
  }
}
