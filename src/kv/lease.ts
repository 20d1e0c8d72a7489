import { invalidArgument } from "./errors.js";

/**
 * A lease id: a decimal integer in [1, 2^53) written as a string. The same
 * type is used by the store, the KvBackend contract (etcd's int64 ids fit it
 * as strings too) and the wire, so no layer converts. Where a lease is
 * optional, "" (and "0", etcd's and the wire's "none") mean no lease.
 */
export type LeaseId = string;

const LEASE_RE = /^\d{1,16}$/;

/** A lease id from the wire or a KvBackend string; "" and "0" mean none. */
export function parseLease(s: string): LeaseId | undefined {
  if (s === "" || s === "0") return undefined;
  if (typeof s !== "string" || !LEASE_RE.test(s)) throw invalidArgument(`invalid lease id ${JSON.stringify(s)}`);
  if (!Number.isSafeInteger(Number(s))) throw invalidArgument(`invalid lease id ${JSON.stringify(s)}`);
  return s;
}

/** Like parseLease, but a lease is required (keepAlive, revoke). */
export function requireLease(s: string): LeaseId {
  const id = parseLease(s);
  if (id === undefined) throw invalidArgument("lease id is required");
  return id;
}
