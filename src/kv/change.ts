import type { LeaseId } from "./lease.js";
import type { LogRecord } from "./log-format.js";
import type { KeyValue, WatchEvent } from "./types.js";

/** One change a command asks for. */
export type Change =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array; readonly lease: LeaseId | undefined }
  | { readonly type: "delete"; readonly key: string };

/** What a change becomes at its revision: the new key state, its log record and its event. */
export interface AppliedChange {
  /** The key after the change (undefined after a delete). */
  readonly kv: KeyValue | undefined;
  readonly prev: KeyValue | undefined;
  readonly record: LogRecord;
  readonly ev: WatchEvent;
}

/** Builds the key state, log record and event of `c` at `revision`, given the key's previous state. */
export function applyChange(c: Change, prev: KeyValue | undefined, revision: number): AppliedChange {
  if (c.type === "delete") {
    const ev: WatchEvent = { type: "delete", key: c.key, revision, ...(prev === undefined ? {} : { prevValue: prev.value }) };
    return { kv: undefined, prev, record: { type: "delete", revision, key: c.key }, ev };
  }
  const kv: KeyValue = {
    key: c.key,
    value: c.value,
    createRevision: prev?.createRevision ?? revision,
    modRevision: revision,
    version: (prev?.version ?? 0) + 1,
    ...(c.lease === undefined ? {} : { lease: c.lease }),
  };
  // Leased keys are not persisted; a delete record drops any older durable value and keeps the revision.
  const record: LogRecord =
    c.lease === undefined
      ? { type: "put", revision, key: c.key, value: kv.value, createRevision: kv.createRevision, version: kv.version }
      : { type: "delete", revision, key: c.key };
  const ev: WatchEvent = {
    type: "put",
    key: c.key,
    revision,
    value: kv.value,
    createRevision: kv.createRevision,
    version: kv.version,
    ...(prev === undefined ? {} : { prevValue: prev.value }),
    ...(kv.lease === undefined ? {} : { lease: kv.lease }),
  };
  return { kv, prev, record, ev };
}
