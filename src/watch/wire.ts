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

export function eventToWire(ev: WatchEvent): MessageInitShape<typeof WatchEventSchema> {
  return {
    type: ev.type === "put" ? WatchEventType.PUT : WatchEventType.DELETE,
    key: ev.key,
    revision: BigInt(ev.revision),
    ...(ev.value === undefined ? {} : { value: ev.value }),
    ...(ev.prevValue === undefined ? {} : { prevValue: ev.prevValue }),
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
