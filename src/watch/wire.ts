/**
 * Conversions between the store's types and the WatchService messages
 * (proto/goms/v1/watch.proto), shared by the server and the client.
 * Revisions are safe-integer numbers in the store and int64 (bigint) on the
 * wire; lease ids are LeaseId strings in both ("0" on the wire means none).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  WatchEventType,
  type WatchEvent as WireEvent,
  type WatchEventSchema,
  type WatchKeyValue as WireKeyValue,
  type WatchKeyValueSchema,
} from "../gen/goms/v1/watch_pb.js";
import type { KvEntry, KvEvent } from "../kv/backend.js";
import { invalidArgument } from "../kv/errors.js";
import type { KeyValue, WatchEvent } from "../kv/types.js";

/** An int64 field as a safe integer >= min, else InvalidArgument. */
export function toSafe(name: string, v: bigint, min = 0): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw invalidArgument(`${name} must be an integer >= ${String(min)} and < 2^53`);
  return n;
}

export function kvToWire(kv: KeyValue): MessageInitShape<typeof WatchKeyValueSchema> {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: BigInt(kv.createRevision),
    modRevision: BigInt(kv.modRevision),
    version: BigInt(kv.version),
    lease: kv.lease ?? "0",
  };
}

/** The protocol's default frame limit (a HELLO's max_frame_size when a node sets none). */
const DEFAULT_FRAME_BYTES = 16 * 1024 * 1024;
/** Room for the frame and response headers and the fields around keys and values. */
const ANSWER_HEADROOM = 64 * 1024;
/** Wire bytes of one event beyond its key and values (tags, revisions, lease), rounded up. */
export const EVENT_OVERHEAD = 64;

/** The poll answer limit (WatchPollRequest.max_bytes) a client with this frame limit asks for; 0 = the protocol default. */
export function answerLimit(maxFrameBytes = 0): number {
  const frame = maxFrameBytes > 0 ? maxFrameBytes : DEFAULT_FRAME_BYTES;
  return Math.max(1, frame - ANSWER_HEADROOM);
}

/** An event on the wire; `withPrev` false leaves prev_value out and says so (prev_value_omitted). */
export function eventToWire(ev: WatchEvent, withPrev = true): MessageInitShape<typeof WatchEventSchema> {
  return {
    type: ev.type === "put" ? WatchEventType.PUT : WatchEventType.DELETE,
    key: ev.key,
    revision: BigInt(ev.revision),
    ...(ev.value === undefined ? {} : { value: ev.value }),
    ...(ev.prevValue === undefined ? {} : withPrev ? { prevValue: ev.prevValue } : { prevValueOmitted: true }),
    createRevision: BigInt(ev.createRevision ?? 0),
    version: BigInt(ev.version ?? 0),
    lease: ev.lease ?? "0",
  };
}

/**
 * Decoded bytes are views into the received network chunk; a copy is a plain
 * Uint8Array and does not pin the whole chunk in memory.
 */
export function own(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

export function wireToEntry(kv: WireKeyValue): KvEntry {
  return { key: kv.key, value: own(kv.value), modRevision: Number(kv.modRevision), lease: kv.lease === "0" ? "" : kv.lease };
}

export function wireToKvEvent(ev: WireEvent): KvEvent {
  const put = ev.type === WatchEventType.PUT;
  return { type: put ? "put" : "delete", key: ev.key, value: put ? own(ev.value) : undefined, revision: Number(ev.revision) };
}
