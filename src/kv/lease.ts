import { invalidArgument } from "./errors.js";

/**
 * Lease ids are decimal integers in [1, 2^53). On the wire and in the
 * KvBackend contract they are strings; "" and "0" mean "no lease".
 */
const LEASE_RE = /^\d{1,16}$/;

/** A lease id from the wire or a KvBackend string; "" and "0" mean none. */
export function parseLease(s: string): number | undefined {
  if (s === "" || s === "0") return undefined;
  if (typeof s !== "string" || !LEASE_RE.test(s)) throw invalidArgument(`invalid lease id ${JSON.stringify(s)}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid lease id ${JSON.stringify(s)}`);
  return n;
}

/** Like parseLease, but a lease is required (keepAlive, revoke). */
export function requireLease(s: string): number {
  const n = parseLease(s);
  if (n === undefined) throw invalidArgument("lease id is required");
  return n;
}

export function leaseString(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}
