/**
 * Byte-level encoding of goms protocol v1 (docs/protocol.md), written from the
 * spec alone: the conformance suite must not share code with the server it
 * tests, so nothing here comes from src/internal/wire. Messages (HELLO, Status,
 * NodeService) use the generated goms.v1 protobuf types.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloSchema, StatusSchema, type Hello, type Status } from "../../src/gen/goms/v1/node_pb.js";

export const T = { Hello: 1, Request: 2, Response: 3, Cancel: 4, Ping: 5, GoAway: 6, StreamOpen: 7, StreamMessage: 8, HalfClose: 9, StreamEnd: 10, WindowUpdate: 11 } as const;
export const FLAG_NO_REPLY = 0x01;
export const FLAG_ACK = 0x01;
/** §15: STREAM_MESSAGE flag: the message continues in the next chunk. */
export const FLAG_MORE = 0x02;
/** §15.11: a stream window of 0 in HELLO means this. */
export const DEFAULT_STREAM_WINDOW = 256 * 1024;
export const CODEC_PROTO = 0;
export const CODEC_JSON = 1;
/** §4.8: the frame limit until the server accepted the client's HELLO. */
export const HANDSHAKE_FRAME_LIMIT = 16 * 1024;
/** §4.4: the smallest non-zero max_frame_size. */
export const MIN_MAX_FRAME_SIZE = 65536;
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const NODE_SERVICE = "goms.v1.NodeService";
export const PING = `${NODE_SERVICE}/Ping`;
export const INFO = `${NODE_SERVICE}/Info`;
export const DESCRIPTORS = `${NODE_SERVICE}/Descriptors`;
export const HEALTH = `${NODE_SERVICE}/Health`;

export interface Frame {
  type: number;
  flags: number;
  callId: number;
  body: Buffer;
}

/** §2: the client preface. */
export function preface(minVersion = 1, maxVersion = 1, magic = "GOMS"): Buffer {
  const b = Buffer.alloc(8);
  b.write(magic, 0, 4, "latin1");
  b[4] = minVersion;
  b[5] = maxVersion;
  return b;
}

/** §3: one frame; `length` overrides the length field (to send lies). */
export function frame(type: number, flags: number, callId: number, body: Uint8Array = Buffer.alloc(0), length?: number): Buffer {
  const b = Buffer.alloc(10 + body.length);
  b.writeUInt32BE(length ?? 6 + body.length, 0);
  b[4] = type;
  b[5] = flags;
  b.writeUInt32BE(callId >>> 0, 6);
  b.set(body, 10);
  return b;
}

export interface HelloFields {
  name?: string;
  id?: number;
  /** false: no `node` field at all. */
  withNode?: boolean;
  maxFrameSize?: number;
  heartbeatMs?: number;
  token?: string;
  /** §15.11: the window this side grants the node on each stream. */
  streamWindow?: number;
}

export function helloBody(f: HelloFields = {}): Buffer {
  const node = f.withNode === false ? undefined : { id: f.id ?? 1, name: f.name ?? "conformance" };
  const msg = create(HelloSchema, {
    ...(node ? { node } : {}),
    maxFrameSize: f.maxFrameSize ?? 0,
    heartbeatMs: f.heartbeatMs ?? 0,
    token: f.token ?? "",
    streamWindow: f.streamWindow ?? 0,
  });
  return Buffer.from(toBinary(HelloSchema, msg));
}

export function decodeHello(body: Buffer): Hello {
  return fromBinary(HelloSchema, body);
}

/** §7: a metadata block from raw entries (keys and values as given, no checks). */
export function metadata(entries: [string | Buffer, string | Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of entries) {
    const key = typeof k === "string" ? Buffer.from(k, "latin1") : k;
    const value = typeof v === "string" ? Buffer.from(v, "utf8") : v;
    const head = Buffer.alloc(3 + key.length);
    head[0] = key.length;
    key.copy(head, 1);
    head.writeUInt16BE(value.length, 1 + key.length);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

export interface RequestFields {
  method: string | Buffer;
  payload?: Uint8Array;
  codec?: number;
  timeoutMs?: number;
  md?: Buffer;
  /** Overrides md_len (to send lies). */
  mdLen?: number;
}

/** §5: a REQUEST body. */
export function requestBody(r: RequestFields): Buffer {
  const method = typeof r.method === "string" ? Buffer.from(r.method, "latin1") : r.method;
  const md = r.md ?? Buffer.alloc(0);
  const head = Buffer.alloc(6);
  head.writeUInt32BE(r.timeoutMs ?? 10_000, 0);
  head[4] = r.codec ?? CODEC_PROTO;
  head[5] = method.length;
  const mdLen = Buffer.alloc(2);
  mdLen.writeUInt16BE(r.mdLen ?? md.length, 0);
  return Buffer.concat([head, method, mdLen, md, r.payload ?? Buffer.alloc(0)]);
}

export function request(id: number, r: RequestFields, flags = 0): Buffer {
  return frame(T.Request, flags, id, requestBody(r));
}

/** §15: STREAM_OPEN (the REQUEST header with no payload, unless one is given to break §15.2). */
export function streamOpen(id: number, r: RequestFields): Buffer {
  return frame(T.StreamOpen, 0, id, requestBody(r));
}

export function streamMessage(id: number, body: Uint8Array, more = false): Buffer {
  return frame(T.StreamMessage, more ? FLAG_MORE : 0, id, body);
}

export function halfClose(id: number, body: Uint8Array = Buffer.alloc(0)): Buffer {
  return frame(T.HalfClose, 0, id, body);
}

export function windowUpdate(id: number, increment: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(increment >>> 0, 0);
  return frame(T.WindowUpdate, 0, id, b);
}

export function cancel(id: number): Buffer {
  return frame(T.Cancel, 0, id);
}

/** A STREAM_END: a RESPONSE's fields but the codec. */
export type StreamEnd = Omit<Response, "codec">;

/** §15 STREAM_END: u8 status | u16 ret | u16 md_len | metadata | payload. Throws when it is malformed. */
export function parseStreamEnd(f: Frame): StreamEnd {
  const b = f.body;
  if (b.length < 5) throw new Error(`STREAM_END body of ${b.length} bytes is shorter than its 5-byte header`);
  const mdLen = b.readUInt16BE(3);
  if (5 + mdLen > b.length) throw new Error("STREAM_END metadata runs past the frame");
  return { id: f.callId, status: b[0]!, ret: b.readUInt16BE(1), md: parseMetadata(b, 5, 5 + mdLen, "STREAM_END"), payload: b.subarray(5 + mdLen) };
}

/** §7: a metadata block as entries; throws when it does not parse to its end. */
function parseMetadata(b: Buffer, from: number, to: number, what: string): [string, string][] {
  const md: [string, string][] = [];
  let p = from;
  while (p < to) {
    const kl = b[p]!;
    const key = b.toString("latin1", p + 1, p + 1 + kl);
    const vl = b.readUInt16BE(p + 1 + kl);
    md.push([key, b.toString("utf8", p + 3 + kl, p + 3 + kl + vl)]);
    p += 3 + kl + vl;
  }
  if (p !== to) throw new Error(`${what} metadata does not parse to md_len`);
  return md;
}

export interface Response {
  id: number;
  status: number;
  codec: number;
  ret: number;
  md: [string, string][];
  payload: Buffer;
}

/** §6: a RESPONSE body. Throws when it is malformed. */
export function parseResponse(f: Frame): Response {
  const b = f.body;
  if (b.length < 6) throw new Error(`RESPONSE body of ${b.length} bytes is shorter than its 6-byte header`);
  const mdLen = b.readUInt16BE(4);
  if (6 + mdLen > b.length) throw new Error("RESPONSE metadata runs past the frame");
  const md = parseMetadata(b, 6, 6 + mdLen, "RESPONSE");
  return { id: f.callId, status: b[0]!, codec: b[1]!, ret: b.readUInt16BE(2), md, payload: b.subarray(6 + mdLen) };
}

export function decodeStatus(payload: Buffer): Status {
  return fromBinary(StatusSchema, payload);
}

export interface GoAway {
  lastCallId: number;
  code: number;
  message: string;
  /** The message bytes are valid UTF-8. */
  utf8: boolean;
}

/** §9.8: a GOAWAY body. */
export function parseGoAway(f: Frame): GoAway {
  if (f.body.length < 5) throw new Error(`GOAWAY body of ${f.body.length} bytes is shorter than 5`);
  const msg = f.body.subarray(5);
  let utf8 = true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(msg);
  } catch {
    utf8 = false;
  }
  return { lastCallId: f.body.readUInt32BE(0), code: f.body[4]!, message: msg.toString("utf8"), utf8 };
}

export function goAway(lastCallId: number, code: number, message: string | Buffer = ""): Buffer {
  const msg = typeof message === "string" ? Buffer.from(message, "utf8") : message;
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(lastCallId >>> 0, 0);
  b[4] = code;
  msg.copy(b, 5);
  return frame(T.GoAway, 0, 0, b);
}

export function describe(f: Frame): string {
  const names = ["?", "HELLO", "REQUEST", "RESPONSE", "CANCEL", "PING", "GOAWAY", "STREAM_OPEN", "STREAM_MESSAGE", "HALF_CLOSE", "STREAM_END", "WINDOW_UPDATE"];
  let extra = "";
  if (f.type === T.GoAway && f.body.length >= 5) {
    const g = parseGoAway(f);
    extra = ` code ${g.code} last ${g.lastCallId} "${g.message}"`;
  } else if ((f.type === T.Response || f.type === T.StreamEnd) && f.body.length >= 1) extra = ` status ${f.body[0]!}`;
  else if (f.type === T.StreamMessage) extra = ` ${f.body.length} bytes`;
  return `${names[f.type] ?? `type ${f.type}`} id ${f.callId} flags ${f.flags}${extra}`;
}
