/**
 * The store's size and count limits, checked in one place each: key and value
 * sizes when a change is accepted (checkKeySize/checkValueSize, called by the
 * store's commit path), history bytes in History, lease counts in Leases.
 */
import { gomsError } from "../errors/index.js";
import type { WatchEvent } from "./types.js";

export interface StoreLimits {
  /** Longest key, in UTF-8 bytes (a hash field's key is hash + NUL + field). Default 4 KiB. */
  readonly maxKeyBytes: number;
  /** Largest value, in bytes. Default 1.5 MiB (etcd's default request limit). */
  readonly maxValueBytes: number;
  /**
   * Bytes of keys, values and previous values the watch history may retain.
   * The oldest events are dropped past it, as past `historySize` events.
   * Default 64 MiB.
   */
  readonly historyBytes: number;
  /** Live leases in the whole store. Default 10 000. */
  readonly maxLeases: number;
  /** Live leases granted to one client (one connection of the watch server). Default 1 000. */
  readonly maxLeasesPerClient: number;
}

export const defaultStoreLimits: StoreLimits = {
  maxKeyBytes: 4 * 1024,
  maxValueBytes: 1.5 * 1024 * 1024,
  historyBytes: 64 * 1024 * 1024,
  maxLeases: 10_000,
  maxLeasesPerClient: 1_000,
};

/** Defaults filled in and every limit checked (a positive safe integer), else GOMS_ERR_INVALID_OPTION. */
export function resolveStoreLimits(partial: Partial<StoreLimits> = {}): StoreLimits {
  const limits = { ...defaultStoreLimits, ...partial };
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw gomsError("GOMS_ERR_INVALID_OPTION", { option: `limits.${name}`, problem: `must be a positive integer, got ${String(v)}` });
    }
  }
  return limits;
}

/** UTF-8 length of a string: what a key costs on the wire and on disk. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

export function checkKeySize(key: string, limits: StoreLimits): void {
  // One UTF-16 unit is at most 3 UTF-8 bytes: short keys need no count.
  if (key.length * 3 <= limits.maxKeyBytes) return;
  const bytes = utf8Length(key);
  if (bytes > limits.maxKeyBytes) throw gomsError("GOMS_ERR_KEY_TOO_LARGE", { bytes, limit: limits.maxKeyBytes });
}

export function checkValueSize(value: Uint8Array, limits: StoreLimits): void {
  if (value.length > limits.maxValueBytes) throw gomsError("GOMS_ERR_VALUE_TOO_LARGE", { bytes: value.length, limit: limits.maxValueBytes });
}

/**
 * Bytes an event holds: key (UTF-8), value and, unless `withPrev` is false,
 * previous value. History budgets and poll answers both count with it.
 */
export function eventBytes(ev: WatchEvent, withPrev = true): number {
  return utf8Length(ev.key) + (ev.value?.length ?? 0) + (withPrev ? (ev.prevValue?.length ?? 0) : 0);
}
