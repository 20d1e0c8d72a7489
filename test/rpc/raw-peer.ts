// Raw goms frames by hand and a raw TCP peer that speaks (or mangles) the wire protocol,
// for the bad-input and conn tests.
import assert from "node:assert/strict";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloSchema, NodeIdentitySchema, StatusSchema } from "../../src/gen/goms/v1/node_pb.js";
import { FrameParser } from "../../src/internal/wire/parser.js";
import { FLAG_ACK, FrameType, MAGIC, PayloadCodec } from "../../src/internal/wire/frame.js";

export const HOST = "127.0.0.1";

// ---- frames by hand ----------------------------------------------------------

export function preface(min = 1, max = 1): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(MAGIC, 0);
  b[4] = min;
  b[5] = max;
  return b;
}

/** u32 length | u8 type | u8 flags | u32 callId | body */
export function frame(type: number, flags: number, callId: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(10 + body.length);
  b.writeUInt32BE(6 + body.length, 0);
  b[4] = type;
  b[5] = flags;
  b.writeUInt32BE(callId >>> 0, 6);
  b.set(body, 10);
  return b;
}

/**
 * A client HELLO. It announces no heartbeat by default: a peer's announced
 * heartbeat raises the server's idle timeout to 3 x it (docs/protocol.md §4),
 * and the timeout tests rely on the server's own (fast) one.
 */
export function helloFrame(name = "attacker", services: string[] = [], heartbeatMs = 0): Buffer {
  const hello = create(HelloSchema, {
    node: create(NodeIdentitySchema, { name, host: HOST, services }),
    maxFrameSize: 64 * 1024 * 1024,
    heartbeatMs,
  });
  return frame(FrameType.Hello, 0, 0, toBinary(HelloSchema, hello));
}

export interface RequestOptions {
  timeoutMs?: number;
  codec?: number;
  /** Raw metadata block (without its u16 length). */
  metadata?: Uint8Array;
  /** Override the u16 metadata length field. */
  mdLen?: number;
  /** Override the u8 method length field. */
  methodLen?: number;
  flags?: number;
}

export function requestBody(method: string, payload: Uint8Array, o: RequestOptions = {}): Buffer {
  const m = Buffer.from(method, "latin1");
  const md = o.metadata ?? new Uint8Array(0);
  const b = Buffer.alloc(6 + m.length + 2 + md.length + payload.length);
  b.writeUInt32BE(o.timeoutMs ?? 0, 0);
  b[4] = o.codec ?? PayloadCodec.Proto;
  b[5] = o.methodLen ?? m.length;
  m.copy(b, 6);
  b.writeUInt16BE(o.mdLen ?? md.length, 6 + m.length);
  b.set(md, 8 + m.length);
  b.set(payload, 8 + m.length + md.length);
  return b;
}

export function requestFrame(id: number, method: string, payload: Uint8Array, o: RequestOptions = {}): Buffer {
  return frame(FrameType.Request, o.flags ?? 0, id, requestBody(method, payload, o));
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A valid protobuf AddRequest {a, b} (int32 fields 1 and 2, non-negative values). */
export function addRequestBytes(a: number, b: number): Uint8Array {
  return Uint8Array.from([0x08, ...varint(a), 0x10, ...varint(b)]);
}

// ---- frames received -----------------------------------------------------------

export interface Frame {
  type: number;
  flags: number;
  callId: number;
  body: Buffer;
}

export interface GoAway {
  lastCallId: number;
  code: number;
  message: string;
}

export function decodeGoAway(f: Frame): GoAway {
  assert.equal(f.type, FrameType.GoAway, `expected GOAWAY, got frame type ${f.type}`);
  return { lastCallId: f.body.readUInt32BE(0), code: f.body[4]!, message: f.body.toString("utf8", 5) };
}

export interface Response {
  status: number;
  codec: number;
  ret: number;
  payload: Buffer;
  /** Status message when status != 0. */
  message: string;
}

export function decodeResponse(f: Frame): Response {
  assert.equal(f.type, FrameType.Response, `expected RESPONSE, got frame type ${f.type}`);
  const b = f.body;
  const mdLen = b.readUInt16BE(4);
  const payload = b.subarray(6 + mdLen);
  const message = b[0] === 0 ? "" : fromBinary(StatusSchema, payload).message;
  return { status: b[0]!, codec: b[1]!, ret: b.readUInt16BE(2), payload, message };
}

/**
 * A hand-driven TCP peer: writes whatever bytes it is told to, and decodes what
 * comes back (preface reply, then frames).
 */
export class RawPeer {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  /** The 8 preface bytes the other side sent first (the server's reply, or a client's preface). */
  prefaceReply: Buffer | undefined;
  closed = false;
  /** Called for every frame received, after it was recorded. */
  onFrame: ((f: Frame) => void) | undefined = undefined;
  /** Acknowledge the server's PINGs (a live peer). Turn off to play dead. */
  answerPings = true;
  readonly closedPromise: Promise<void>;
  private pre = Buffer.alloc(0);
  private readonly parser: FrameParser;
  private waiters: Array<() => void> = [];

  /** Every raw peer made so far (destroyAll() in after hooks). */
  static readonly all = new Set<RawPeer>();

  static destroyAll(): void {
    for (const p of RawPeer.all) p.destroy();
    RawPeer.all.clear();
  }

  private constructor(socket: net.Socket) {
    this.socket = socket;
    RawPeer.all.add(this);
    this.parser = new FrameParser(
      {
        onFrame: (type, flags, callId, buf, start, end) => {
          const f: Frame = { type, flags, callId, body: Buffer.from(buf.subarray(start, end)) };
          this.frames.push(f);
          this.onFrame?.(f);
          if (type === FrameType.Ping && (flags & FLAG_ACK) === 0 && this.answerPings && !this.socket.destroyed) {
            this.socket.write(frame(FrameType.Ping, FLAG_ACK, 0, buf.subarray(start, end)));
          }
          this.wake();
        },
        onFrameError: (message) => {
          throw new Error(`raw peer received an unparseable stream: ${message}`);
        },
      },
      1 << 30,
    );
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined);
    this.closedPromise = new Promise<void>((resolve) => {
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ host: HOST, port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  /** Wraps an accepted socket (a fake server): the first 8 bytes read are the client's preface. */
  static accepted(socket: net.Socket): RawPeer {
    return new RawPeer(socket);
  }

  /** Connects, sends preface + HELLO and waits for the server's HELLO. */
  static async handshake(port: number, name = "attacker"): Promise<RawPeer> {
    const p = await RawPeer.connect(port);
    p.send(Buffer.concat([preface(), helloFrame(name)]));
    await p.waitFrame((f) => f.type === FrameType.Hello, 2000);
    return p;
  }

  private onData(chunk: Buffer): void {
    if (this.prefaceReply === undefined) {
      this.pre = Buffer.concat([this.pre, chunk]);
      if (this.pre.length < 8) return;
      this.prefaceReply = this.pre.subarray(0, 8);
      chunk = this.pre.subarray(8);
      this.wake();
      if (chunk.length === 0) return;
    }
    this.parser.push(chunk);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves with the first received frame matching `pred` (already received ones count). */
  async waitFrame(pred: (f: Frame) => boolean, timeoutMs = 2000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f !== undefined) return f;
      if (this.closed) throw new Error(`socket closed before the expected frame arrived; got types ${this.frames.map((x) => x.type).join(",")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got types ${this.frames.map((x) => x.type).join(",")}`);
      await this.changed(left);
    }
  }

  async waitGoAway(timeoutMs = 2000): Promise<GoAway> {
    return decodeGoAway(await this.waitFrame((f) => f.type === FrameType.GoAway, timeoutMs));
  }

  async waitResponse(callId: number, timeoutMs = 2000): Promise<Response> {
    return decodeResponse(await this.waitFrame((f) => f.type === FrameType.Response && f.callId === callId, timeoutMs));
  }

  /** Resolves once the server closed the socket; fails after timeoutMs. */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closedPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(wake);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
