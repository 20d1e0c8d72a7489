/**
 * goms wire protocol v1: constants and frame layout. docs/protocol.md is the
 * normative description; keep the two in step.
 *
 *   preface (8 bytes, client first):  "GOMS" u8 minVersion u8 maxVersion u16 reserved
 *   preface reply (8 bytes, server):  "GOMS" u8 chosenVersion (0 = none) u8 0 u16 0
 *   frame:  u32 length | u8 type | u8 flags | u32 callId | body     (big-endian)
 *           length counts every byte after the length field (>= 6)
 */
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;
export const PREFACE_SIZE = 8;
export const MAGIC = 0x474f4d53; // "GOMS"

export const FRAME_HEADER_SIZE = 10;
/** Bytes counted by `length` for a frame with an empty body. */
export const FRAME_MIN_LENGTH = 6;

export const FrameType = {
  Hello: 1,
  Request: 2,
  Response: 3,
  Cancel: 4,
  Ping: 5,
  GoAway: 6,
  /** Streams (docs/protocol.md §15). */
  StreamOpen: 7,
  StreamMessage: 8,
  HalfClose: 9,
  StreamEnd: 10,
  WindowUpdate: 11,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** REQUEST flag: one-way call, the server sends no RESPONSE. */
export const FLAG_NO_REPLY = 0x01;
/** PING flag: this PING is the acknowledgement of a received PING. */
export const FLAG_ACK = 0x01;
/** STREAM_MESSAGE flag: the message continues in the next STREAM_MESSAGE of the same stream. */
export const FLAG_MORE = 0x02;

/** Largest STREAM_MESSAGE body a sender writes: a big message never holds up small frames of other calls. */
export const STREAM_CHUNK_SIZE = 64 * 1024;
/** Initial per-stream window, per direction, when HELLO announces 0. */
export const DEFAULT_STREAM_WINDOW = 256 * 1024;
/** Streams served at once per connection when HELLO announces 0. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/** A window never grows past this (a WINDOW_UPDATE that would is a protocol error). */
export const MAX_STREAM_WINDOW = 0x7fffffff;

export const PayloadCodec = {
  Proto: 0,
  Json: 1,
} as const;
export type PayloadCodec = (typeof PayloadCodec)[keyof typeof PayloadCodec];

/** Default size limits, see docs/protocol.md "Limits". */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/**
 * Frame limit until the handshake is complete: a peer that has not been
 * accepted yet cannot make the other side hold more than this per frame.
 */
export const HANDSHAKE_FRAME_LIMIT = 16 * 1024;
/** Smallest max_frame_size a HELLO may announce (0 means the default). */
export const MIN_MAX_FRAME_SIZE = 64 * 1024;
/** Longest node name in a HELLO, in UTF-8 bytes. */
export const MAX_NODE_NAME_BYTES = 255;
/** PING body size. */
export const PING_BODY_SIZE = 8;
export const MAX_METHOD_LENGTH = 255;
export const MAX_METADATA_BYTES = 65535;
export const MAX_TIMEOUT_MS = 0xffffffff;

/**
 * True when call id `a` comes after `b` in 32-bit serial number arithmetic
 * (RFC 1982): 0 < (a - b) mod 2^32 < 2^31. Ids on a connection increase this
 * way (after 0xFFFFFFFF comes 1); 0 is never an id. Before the first REQUEST
 * the previous id counts as 0, so a connection's first id is 1..2^31-1.
 */
export function callIdAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
