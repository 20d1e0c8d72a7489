import { setImmediate as nextTurn } from "node:timers/promises";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { Writer } from "../../codec/writer.js";
import { AsyncQueue } from "../util/async-queue.js";
import { FRAME_HEADER_SIZE, FrameType, MAX_STREAM_WINDOW, STREAM_CHUNK_SIZE } from "../wire/frame.js";
import { abortFrame, beginFrame, endFrame } from "../wire/headers.js";
import { SHARED_TURN_BYTES, SHARED_WINDOW, TURN_BYTES, TURN_MESSAGE_MIN, UnaryWatch } from "./stream-sharing.js";
import type { StreamCounters } from "./stream-counters.js";

/**
 * Per-stream credit flow control (docs/protocol.md §15), one half per
 * direction. Each STREAM_MESSAGE body costs its length in bytes of window, and
 * at least 1, so a stream of empty messages is flow-controlled too.
 */
export function chunkCost(bodyBytes: number): number {
  return bodyBytes === 0 ? 1 : bodyBytes;
}

/** What a stream half needs from its connection. */
export interface StreamWire {
  readonly closed: boolean;
  /** The connection's output batch: a message that fits is encoded straight into it (see StreamOutbox.sendMessage). */
  readonly writer: Writer;
  /** Call after a STREAM_MESSAGE frame of `frameBytes` was completed in `writer` (the connection's batching policy for stream frames). */
  streamFrameWritten(frameBytes: number): void;
  writeStreamChunk(id: number, bytes: Uint8Array, off: number, n: number, more: boolean): void;
  writeWindowUpdate(id: number, increment: number): void;
  whenWritable(): Promise<void> | undefined;
  /** Unary calls this side has served or made so far (a counter that only grows): other work for the event loop. */
  readonly unaryCalls: number;
  /** The node's stream counters (node.stats().streams). */
  readonly counters: StreamCounters;
}

interface Item {
  readonly value: unknown;
  readonly cost: number;
}

/**
 * The receiving half: reassembles chunked messages, refuses bytes past the
 * window (the caller turns the returned text into a protocol error), hands
 * decoded messages to one consumer and grants the window back as the consumer
 * takes them (once half of it was taken, in one WINDOW_UPDATE). What it holds
 * is therefore at most one window of complete messages plus one message being
 * assembled (whose chunks are granted back at once, since no consumer can take
 * half a message); `maxMessageBytes` bounds that one.
 */
export class StreamInbox implements AsyncIterableIterator<unknown> {
  private readonly queue: AsyncQueue<Item>;
  /** Bytes the peer may still send before it needs a WINDOW_UPDATE. */
  private remaining: number;
  /** Bytes taken by the consumer and not yet granted back. */
  private taken = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private readonly unary: UnaryWatch;
  /** While withholding, `taken` at which grant() looks again (see grant). */
  private nextCheck = 0;

  constructor(
    private readonly id: number,
    private readonly window: number,
    private readonly maxMessageBytes: number,
    private readonly decode: (buf: Buffer, start: number, end: number) => unknown,
    private readonly wire: StreamWire,
    /** The consumer stopped (a `for await` that breaks): the stream is canceled. */
    onStop: () => void,
    /** A message could not be decoded: the stream is over (the consumer gets the messages before it, then `err`). */
    private readonly onBadMessage: (err: GomsError) => void = () => undefined,
  ) {
    this.remaining = window;
    this.unary = new UnaryWatch(wire);
    let ended = false;
    this.queue = new AsyncQueue<Item>({
      onClose: () => {
        if (!ended) onStop();
      },
    });
    this.markEnded = () => void (ended = true);
  }

  private readonly markEnded: () => void;

  /** Messages waiting for the consumer. */
  get queued(): number {
    return this.queue.length;
  }

  /** One STREAM_MESSAGE body. Returns why it breaks the protocol, or undefined. */
  onChunk(buf: Buffer, start: number, end: number, more: boolean): string | undefined {
    const n = end - start;
    const cost = chunkCost(n);
    if (cost > this.remaining) return `stream ${this.id}: ${cost} bytes sent past the window (${this.remaining} left)`;
    if (more && n === 0) return `stream ${this.id}: empty STREAM_MESSAGE with MORE`;
    this.remaining -= cost;
    if (this.partBytes + n > this.maxMessageBytes) return `stream ${this.id}: message larger than ${this.maxMessageBytes} bytes`;
    if (more) {
      this.parts.push(Buffer.from(buf.subarray(start, end)));
      this.partBytes += n;
      // No consumer can take half a message: its chunks are granted back as they arrive.
      this.grant(cost);
      return undefined;
    }
    let whole = buf;
    if (this.parts.length > 0) {
      this.parts.push(buf.subarray(start, end));
      whole = Buffer.concat(this.parts, this.partBytes + n);
      start = 0;
      end = whole.length;
      this.parts = [];
      this.partBytes = 0;
    }
    let value: unknown;
    try {
      value = this.decode(whole, start, end);
    } catch (cause) {
      // The consumer gets the messages before it, then the error; the owner ends the stream (a caller cancels it on the wire).
      const err = new GomsError(`undecodable stream message: ${(cause as Error).message}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD", cause });
      this.fail(err);
      this.onBadMessage(err);
      return undefined;
    }
    this.wire.counters.received++;
    // A consumer that already stopped takes nothing: the bytes are granted back at once.
    if (!this.queue.push({ value, cost })) this.grant(cost);
    return undefined;
  }

  /** The peer sends nothing more: the consumer gets the queued messages, then the end. */
  end(): void {
    this.markEnded();
    this.queue.end();
  }

  /** The stream failed: the consumer gets the queued messages, then `err`. */
  fail(err: Error): void {
    this.markEnded();
    this.queue.fail(err);
  }

  /** Ends now, dropping what is queued (the stream is over for both sides). */
  drop(): void {
    this.markEnded();
    this.queue.stop();
  }

  next(): Promise<IteratorResult<unknown>> {
    // A message already queued is handed over in a settled promise: no `then` step per message.
    const item = this.queue.poll();
    if (item === undefined) return this.queue.next().then(this.unwrap);
    this.grant(item.cost);
    return Promise.resolve({ done: false, value: item.value });
  }

  /** A message taken by the consumer: its bytes go back to the window. (One bound function, not an async step per message.) */
  private readonly unwrap = (r: IteratorResult<Item>): IteratorResult<unknown> => {
    if (r.done === true) return r;
    this.grant(r.value.cost);
    return { done: false, value: r.value.value };
  };

  return(): Promise<IteratorResult<unknown>> {
    return this.queue.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Grants taken bytes back, once half the window was taken. While unary calls
   * share the connection it grants back less: what the sender may still send
   * plus what is unread (window - taken, as remaining + unread + taken is
   * always the window) then stays within SHARED_WINDOW, and the rest of
   * `taken` is withheld until the connection is a stream's alone again.
   */
  private grant(cost: number): void {
    this.taken += cost;
    if (this.taken * 2 < this.window || this.taken < this.nextCheck || this.wire.closed) return;
    let g = this.taken;
    if (this.window > 2 * SHARED_WINDOW && this.unary.shared()) {
      g = this.taken - (this.window - SHARED_WINDOW);
      if (g * 2 < SHARED_WINDOW) {
        // Nothing to grant before half the shared window is over: ask again then, not per message.
        this.nextCheck = this.window - SHARED_WINDOW / 2;
        return;
      }
    }
    this.nextCheck = 0;
    this.wire.writeWindowUpdate(this.id, g);
    this.remaining += g;
    this.taken -= g;
  }
}

/**
 * What a send that wrote its message at once returns: one settled promise,
 * none allocated per message. A producer loop may skip awaiting it (see
 * driveStream): once a turn's worth was sent, a send returns a promise that waits a turn.
 */
export const SENT: Promise<void> = Promise.resolve();

/**
 * The sending half: writes each message in chunks of at most 64 KiB (and the
 * peer's frame limit), never past the credit the peer granted. send() resolves
 * once the whole message is written, so a producer awaiting it is suspended
 * while the window is full: the sender holds at most the message it is sending.
 */
export class StreamOutbox {
  /** A send waiting (see wait()); `credit`: for a WINDOW_UPDATE, else for the connection to drain. */
  private waiter: { resolve(): void; reject(e: Error): void; credit: boolean } | undefined;
  private failed: Error | undefined;
  private readonly maxChunk: number;
  /** Bytes sent since the event loop last got a turn (messages count at least TURN_MESSAGE_MIN). */
  private sinceTurn = 0;
  /** This turn's length: TURN_BYTES, or SHARED_TURN_BYTES while unary calls share the event loop (see endTurn). */
  private turnBytes = TURN_BYTES;
  private readonly unary: UnaryWatch;
  /** A send() is under way: sendMessage() must not overtake it. */
  private sending = false;

  constructor(
    private readonly id: number,
    private credit: number,
    peerMaxFrame: number,
    private readonly wire: StreamWire,
  ) {
    this.maxChunk = Math.min(STREAM_CHUNK_SIZE, peerMaxFrame - 6);
    this.unary = new UnaryWatch(wire);
  }

  /** Bytes the peer currently lets this side send. */
  get window(): number {
    return this.credit;
  }

  /** A WINDOW_UPDATE body. Returns why it breaks the protocol, or undefined. */
  onWindowUpdate(buf: Buffer, start: number, end: number): string | undefined {
    if (end - start !== 4) return `WINDOW_UPDATE body of ${end - start} bytes (must be 4)`;
    const inc = buf.readUInt32BE(start);
    if (inc === 0) return `stream ${this.id}: WINDOW_UPDATE of 0`;
    if (this.credit + inc > MAX_STREAM_WINDOW) return `stream ${this.id}: WINDOW_UPDATE overflows the window (${this.credit} + ${inc})`;
    this.credit += inc;
    // Only a wait for credit: waking one for the connection would ask whenWritable() again, adding socket listeners per update.
    const w = this.waiter;
    if (w?.credit !== true) return undefined;
    this.waiter = undefined;
    w.resolve();
    return undefined;
  }

  /**
   * Sends one message, encoded by `encode(value, w)`. The common case (the
   * connection is not backed up, the message fits the credit and one chunk) is
   * encoded straight into the connection's output batch as one STREAM_MESSAGE
   * frame: no copy, no buffer per message, no async step. Otherwise its bytes
   * are copied out and sent as send() does. An `encode` that throws leaves no
   * trace in the batch; its error is the rejection.
   */
  sendMessage(encode: (value: unknown, w: Writer) => void, value: unknown): Promise<void> {
    const wire = this.wire;
    const w = wire.writer;
    const full = this.failed === undefined && !this.sending ? wire.whenWritable() : undefined;
    const rel = beginFrame(w, FrameType.StreamMessage, 0, this.id, 0);
    try {
      encode(value, w);
    } catch (e) {
      abortFrame(w, rel);
      return Promise.reject(e);
    }
    const n = w.pos - w.start - rel - FRAME_HEADER_SIZE;
    const cost = chunkCost(n);
    if (full === undefined && this.failed === undefined && !this.sending && n <= this.maxChunk && cost <= this.credit) {
      const len = endFrame(w, rel);
      this.credit -= cost;
      this.sinceTurn += Math.max(cost, TURN_MESSAGE_MIN);
      wire.counters.sent++;
      wire.streamFrameWritten(len + 4);
      if (this.sinceTurn < this.turnBytes) return SENT;
      // Every turn's worth of messages the producer waits a turn of the event loop (see send()).
      this.endTurn();
      return this.yieldTurn();
    }
    const bodyStart = w.start + rel + FRAME_HEADER_SIZE;
    const bytes = Buffer.from(w.buf.subarray(bodyStart, bodyStart + n));
    abortFrame(w, rel);
    return this.send(bytes, full);
  }

  /** Starts counting the next turn: short while unary calls were seen in the last SHARED_TURNS_MS (one clock read per turn). */
  private endTurn(): void {
    this.sinceTurn = 0;
    this.turnBytes = this.unary.shared() ? SHARED_TURN_BYTES : TURN_BYTES;
  }

  /** Resolves after a turn of the event loop; `sending` keeps a later message from overtaking the wait. */
  private async yieldTurn(): Promise<void> {
    this.sending = true;
    try {
      await nextTurn();
    } finally {
      this.sending = false;
    }
  }

  /** Sends one encoded message (after `first`, when given, settles). Rejects once the stream is over (see fail()). */
  async send(bytes: Uint8Array, first?: Promise<void>): Promise<void> {
    this.sending = true;
    const counters = this.wire.counters;
    try {
      let waited = false;
      if (first !== undefined) {
        waited = true;
        await this.wait(first);
      }
      let off = 0;
      do {
        if (this.failed !== undefined) throw this.failed;
        const full = this.wire.whenWritable();
        if (full !== undefined) {
          waited = true;
          await this.wait(full);
          continue;
        }
        if (this.credit < 1) {
          waited = true;
          await this.wait();
          continue;
        }
        const n = Math.min(bytes.length - off, this.credit, this.maxChunk);
        const more = off + n < bytes.length;
        this.wire.writeStreamChunk(this.id, bytes, off, n, more);
        this.credit -= chunkCost(n);
        off += n;
        this.sinceTurn += Math.max(chunkCost(n), TURN_MESSAGE_MIN);
        // Every TURN_BYTES (part of a big message, or many small messages) the event loop gets a turn:
        // other calls' frames go out in between, and a producer never starves socket I/O and timers.
        if (this.sinceTurn >= this.turnBytes) {
          this.endTurn();
          await nextTurn();
        }
      } while (off < bytes.length);
      counters.sent++;
      // Once per message that waited, however many times: a count of messages held back, not of wake-ups.
      if (waited) counters.windowWaits++;
    } finally {
      this.sending = false;
    }
  }

  /**
   * Waits for credit (a WINDOW_UPDATE), or for `writable` (the connection's
   * output drained) when given; rejects once the stream fails. Without the race, a send waiting for a
   * connection a peer does not read stayed there after its stream was
   * canceled, and so did its handler's `finally`, until the socket drained or
   * closed.
   */
  private wait(writable?: Promise<void>): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject, credit: writable === undefined };
      writable?.then(() => {
        if (this.waiter?.resolve !== resolve) return;
        this.waiter = undefined;
        resolve();
      });
    });
  }

  /** The stream is over: a send waiting for credit or for the connection, and every later one, rejects with `err`. */
  fail(err: Error): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }
}
