import { randomInt } from "node:crypto";
import { Code, GomsError } from "../errors/index.js";
import type { LeaseId } from "./lease.js";

interface Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  deadline: number;
  readonly keys: Set<string>;
}

/**
 * Lease bookkeeping only: ids, deadlines and attached keys. Deleting the keys
 * of an expired or revoked lease is the store's job.
 *
 * Ids are random in [1, 2^48) so that an id held by a client from before a
 * restart (leases do not survive one) is very unlikely to name a new lease.
 */
export class Leases {
  private readonly byId = new Map<LeaseId, Lease>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.byId.size;
  }

  grant(ttlMs: number): LeaseId {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new GomsError("lease ttl must be a positive number of ms", Code.InvalidArgument);
    let id = String(randomInt(1, 2 ** 48));
    while (this.byId.has(id)) id = String(randomInt(1, 2 ** 48));
    this.byId.set(id, { id, ttlMs, deadline: this.now() + ttlMs, keys: new Set() });
    return id;
  }

  has(id: LeaseId): boolean {
    return this.byId.has(id);
  }

  /** Restarts the lease's ttl; returns it. NotFound when unknown (expired leases are reaped before). */
  keepAlive(id: LeaseId): number {
    const lease = this.require(id);
    lease.deadline = this.now() + lease.ttlMs;
    return lease.ttlMs;
  }

  /** Remaining ms before expiry. */
  timeToLive(id: LeaseId): number {
    return Math.max(0, this.require(id).deadline - this.now());
  }

  attach(id: LeaseId, key: string): void {
    this.require(id).keys.add(key);
  }

  detach(id: LeaseId, key: string): void {
    this.byId.get(id)?.keys.delete(key);
  }

  /** Keys attached to the lease, sorted. */
  keysOf(id: LeaseId): string[] {
    return [...this.require(id).keys].sort();
  }

  remove(id: LeaseId): void {
    this.byId.delete(id);
  }

  /** Ids whose deadline has passed, soonest first. */
  expired(): LeaseId[] {
    const t = this.now();
    const out: Lease[] = [];
    for (const l of this.byId.values()) if (l.deadline <= t) out.push(l);
    return out.sort((a, b) => a.deadline - b.deadline || Number(a.id) - Number(b.id)).map((l) => l.id);
  }

  ids(): LeaseId[] {
    return [...this.byId.keys()];
  }

  private require(id: LeaseId): Lease {
    const lease = this.byId.get(id);
    if (lease === undefined) throw new GomsError(`lease ${id} not found (expired or revoked)`, Code.NotFound);
    return lease;
  }
}
