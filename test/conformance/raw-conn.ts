import net from "node:net";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { PingRequestSchema, type Hello } from "../../src/gen/goms/v1/node_pb.js";
import {
  CODEC_PROTO,
  FLAG_ACK,
  PING,
  T,
  decodeHello,
  describe,
  frame,
  helloBody,
  parseResponse,
  preface,
  request,
  type Frame,
  type HelloFields,
  type RequestFields,
  type Response,
} from "./frames.js";

/** Where the node under test listens, and the token it wants (if any). */
export interface Target {
  host: string;
  port: number;
  token?: string;
}

export type ConnEvent = { kind: "preface"; bytes: Buffer } | { kind: "frame"; frame: Frame } | { kind: "close" } | { kind: "timeout" };

/** How long a case waits for a frame the spec says must come (generous: the machine may be loaded). */
export const WAIT_MS = 5000;

/**
 * A raw TCP connection to a node: writes whatever bytes a case gives it and
 * hands back what the node sent as events (its preface, each frame, the close).
 * With `autoPong`, PINGs from the node are acknowledged and not reported, so
 * cases not about heartbeats never see them.
 */
export class RawConn {
  private buf: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private readonly events: ConnEvent[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  autoPong = true;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      this.push({ kind: "close" });
    });
  }

  static open(t: Target): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(t.port, t.host);
      s.setNoDelay(true);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new RawConn(s));
      });
    });
  }

  write(...bufs: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bufs));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private push(e: ConnEvent): void {
    this.events.push(e);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.prefaceSeen) {
      if (this.buf.length < 8) return;
      this.prefaceSeen = true;
      this.push({ kind: "preface", bytes: this.buf.subarray(0, 8) });
      this.buf = this.buf.subarray(8);
    }
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len < 6) {
        // The node broke §3.2 itself: report it as a frame the case can't mistake for anything valid.
        this.push({ kind: "frame", frame: { type: 255, flags: 0, callId: 0, body: Buffer.alloc(0) } });
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.buf.length < 4 + len) return;
      const f: Frame = { type: this.buf[4]!, flags: this.buf[5]!, callId: this.buf.readUInt32BE(6), body: Buffer.from(this.buf.subarray(10, 4 + len)) };
      this.buf = this.buf.subarray(4 + len);
      if (this.autoPong && f.type === T.Ping && (f.flags & FLAG_ACK) === 0) {
        this.write(frame(T.Ping, FLAG_ACK, 0, f.body));
        continue;
      }
      this.push({ kind: "frame", frame: f });
    }
  }

  /** The next event, or `timeout` after `ms`. After the close, every call returns `close`. */
  async next(ms = WAIT_MS): Promise<ConnEvent> {
    const deadline = Date.now() + ms;
    while (this.events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const e = this.events[0]!;
    if (e.kind !== "close") this.events.shift();
    return e;
  }

  /** The next frame; throws on close or timeout. */
  async frame(ms = WAIT_MS): Promise<Frame> {
    const e = await this.next(ms);
    if (e.kind === "frame") return e.frame;
    throw new Error(`expected a frame, got ${e.kind}`);
  }

  /** The server preface (§2); throws on close or timeout. */
  async preface(ms = WAIT_MS): Promise<Buffer> {
    const e = await this.next(ms);
    if (e.kind === "preface") return e.bytes;
    throw new Error(`expected the server preface, got ${e.kind}`);
  }

  /** Waits for the close, skipping frames; returns the frames seen before it, or throws on timeout. */
  async closedWithin(ms = WAIT_MS): Promise<Frame[]> {
    const seen: Frame[] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (e.kind === "close") return seen;
      if (e.kind === "timeout") throw new Error(`connection still open after ${ms} ms (frames seen: ${seen.map(describe).join(", ") || "none"})`);
      if (e.kind === "frame") seen.push(e.frame);
    }
  }

  /** Sends a REQUEST and waits for the next frame, which must be its RESPONSE. */
  async call(id: number, r: RequestFields, ms = WAIT_MS): Promise<Response> {
    this.write(request(id, r));
    return this.response(id, ms);
  }

  /** Waits for the next frame, which must be the RESPONSE to `id`. */
  async response(id: number, ms = WAIT_MS): Promise<Response> {
    const f = await this.frame(ms);
    if (f.type !== T.Response || f.callId !== id) throw new Error(`expected RESPONSE ${id}, got ${describe(f)}`);
    return parseResponse(f);
  }
}

/** A connection past the handshake: the node's HELLO is known. */
export interface Session {
  conn: RawConn;
  hello: Hello;
}

/** Preface + HELLO (§2, §4) with `fields` (the target's token unless given), up to the node's HELLO. */
export async function handshake(t: Target, fields: HelloFields = {}, extra: Buffer[] = []): Promise<Session> {
  const conn = await RawConn.open(t);
  const body = helloBody({ ...(t.token === undefined ? {} : { token: t.token }), ...fields });
  conn.write(preface(), frame(T.Hello, 0, 0, body), ...extra);
  const p = await conn.preface();
  if (p.readUInt32BE(0) !== 0x474f4d53 || p[4] !== 1) throw new Error(`unexpected server preface ${p.toString("hex")}`);
  const f = await conn.frame();
  if (f.type !== T.Hello) throw new Error(`expected the node's HELLO, got ${describe(f)}`);
  return { conn, hello: decodeHello(f.body) };
}

/** Protobuf payload of a NodeService request. */
export function encode<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return Buffer.from(toBinary(schema, create(schema, init)));
}

export function decode<D extends DescMessage>(schema: D, payload: Buffer): MessageShape<D> {
  return fromBinary(schema, payload);
}

/** A NodeService Ping call (§14.2): every node serves it, so cases use it as their ordinary call. */
export function ping(text = "hi"): RequestFields {
  return { method: PING, payload: encode(PingRequestSchema, { payload: Buffer.from(text) }) };
}

export { CODEC_PROTO };
