/** Argument checks of the store commands; every failure is InvalidArgument (FailedPrecondition for CAS). */
import { invalidArgument, revisionMismatch } from "./errors.js";
import { HASH_SEPARATOR, hashPrefix } from "./hash-keys.js";
import type { KeyValue, WatchOptions } from "./types.js";

const INT_RE = /^[+-]?\d+$/;

export function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw invalidArgument("key must be a non-empty string");
}

export function checkHash(key: string, field?: string): void {
  checkKey(key);
  if (key.includes(HASH_SEPARATOR)) throw invalidArgument("hash key must not contain U+0000");
  if (field !== undefined && (typeof field !== "string" || field.length === 0)) throw invalidArgument("hash field must be a non-empty string");
}

/** Checks an integer argument (revisions, sizes). */
export function checkRevision(name: string, r: number, min: number): void {
  if (!Number.isSafeInteger(r) || r < min) throw invalidArgument(`${name} must be an integer >= ${String(min)}`);
}

/** Compare-and-set: the key's modRevision (0 when absent) must equal `prev`, when given. */
export function checkPrev(key: string, cur: KeyValue | undefined, prev: number | undefined): void {
  if (prev === undefined) return;
  checkRevision("prevRevision", prev, 0);
  const actual = cur?.modRevision ?? 0;
  if (actual !== prev) throw revisionMismatch(key, prev, actual);
}

/** The key filter of a store watch: at most one of key, prefix, hash. */
export function watchMatcher(options: WatchOptions): (key: string) => boolean {
  const { key, prefix, hash } = options;
  const set = [key, prefix, hash].filter((x) => x !== undefined).length;
  if (set > 1) throw invalidArgument("watch: give at most one of key, prefix, hash");
  if (key !== undefined) return (k) => k === key;
  if (hash !== undefined) {
    checkHash(hash);
    const p = hashPrefix(hash);
    return (k) => k.startsWith(p);
  }
  if (prefix !== undefined && prefix !== "") return (k) => k.startsWith(prefix);
  return () => true;
}

/** The integer a hash field holds, for hincrby: a decimal safe integer, else InvalidArgument. */
export function counterValue(field: string, s: string): number {
  if (!INT_RE.test(s)) throw invalidArgument(`hash field ${JSON.stringify(field)} is not an integer`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`hash field ${JSON.stringify(field)} is not a safe integer`);
  return n;
}
