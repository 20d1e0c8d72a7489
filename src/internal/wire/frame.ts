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
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** REQUEST flag: one-way call, the server sends no RESPONSE. */
export const FLAG_NO_REPLY = 0x01;
/** PING flag: this PING is the acknowledgement of a received PING. */
export const FLAG_ACK = 0x01;

export const PayloadCodec = {
  Proto: 0,
  Json: 1,
} as const;
export type PayloadCodec = (typeof PayloadCodec)[keyof typeof PayloadCodec];

/** Default size limits, see docs/protocol.md "Limits". */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
export const MAX_METHOD_LENGTH = 255;
export const MAX_METADATA_BYTES = 65535;
export const MAX_TIMEOUT_MS = 0xffffffff;
