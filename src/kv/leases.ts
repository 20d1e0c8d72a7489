import { randomInt } from "node:crypto";
import { Code, GomsError, gomsError } from "../errors/index.js";
import { CappedMap } from "../internal/util/capped-map.js";
import { DeadlineHeap } from "./deadline-heap.js";
import type { LeaseId } from "./lease.js";

interface Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  deadline: number;
  heapIndex: number;
  readonly keys: Set<string>;
  /** Who was granted the lease (a watch server connection), for the per-client cap. */
  readonly owner: string | undefined;
}

export interface LeaseCaps {
  /** Live leases in total. */
  readonly maxLeases: number;
  /** Live leases of one owner. */
  readonly maxLeasesPerClient: number;
}

/** Counters for tests and metrics. */
export interface LeaseStats {
  /** Live leases. */
  readonly leases: number;
  /** Owners holding at least one lease. */
  readonly owners: number;
  /** Leases looked at by expiry checks since the store opened (one per check when nothing expired). */
  readonly expiryChecks: number;
}

/**
 * Lease bookkeeping only: ids, deadlines, owners and attached keys. Deleting
 * the keys of an expired or revoked lease is the store's job.
 *
 * Ids are random in [1, 2^48) so that an id held by a client from before a
 * restart (leases do not survive one) is very unlikely to name a new lease.
 *
 * Bounds: the lease table is a CappedMap (maxLeases), and each owner may hold
 * at most maxLeasesPerClient. Expiry reads a min-heap of deadlines, so the
 * check every store command makes costs O(1) when nothing has expired and
 * O(log n) per expired lease, instead of a scan of every lease.
 */
export class Leases {
  private readonly byId: CappedMap<LeaseId, Lease>;
  private readonly perOwner: CappedMap<string, number>;
  private readonly heap = new DeadlineHeap<Lease>();
  private checks = 0;

  constructor(
    private readonly now: () => number,
    private readonly caps: LeaseCaps,
  ) {
    this.byId = new CappedMap(caps.maxLeases, (limit) => gomsError("GOMS_ERR_TOO_MANY_LEASES", { limit, scope: "server" }));
    // An owner is only tracked while it holds a lease, so it can never outnumber the leases.
    this.perOwner = new CappedMap(caps.maxLeases, (limit) => gomsError("GOMS_ERR_TOO_MANY_LEASES", { limit, scope: "server" }));
  }

  get size(): number {
    return this.byId.size;
  }

  get stats(): LeaseStats {
    return { leases: this.byId.size, owners: this.perOwner.size, expiryChecks: this.checks };
  }

  /** A new lease; `owner` (a connection) counts against the per-client cap. */
  grant(ttlMs: number, owner?: string): LeaseId {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new GomsError("lease ttl must be a positive number of ms", Code.InvalidArgument);
    if (this.byId.isFull) throw gomsError("GOMS_ERR_TOO_MANY_LEASES", { limit: this.caps.maxLeases, scope: "server" });
    const held = owner === undefined ? 0 : (this.perOwner.get(owner) ?? 0);
    if (held >= this.caps.maxLeasesPerClient) throw gomsError("GOMS_ERR_TOO_MANY_LEASES", { limit: this.caps.maxLeasesPerClient, scope: "client" });
    let id = String(randomInt(1, 2 ** 48));
    while (this.byId.has(id)) id = String(randomInt(1, 2 ** 48));
    const lease: Lease = { id, ttlMs, deadline: this.now() + ttlMs, heapIndex: -1, keys: new Set(), owner };
    this.byId.set(id, lease);
    if (owner !== undefined) this.perOwner.set(owner, held + 1);
    this.heap.push(lease);
    return id;
  }

  has(id: LeaseId): boolean {
    return this.byId.has(id);
  }

  /** Restarts the lease's ttl; returns it. NotFound when unknown (expired leases are reaped before). */
  keepAlive(id: LeaseId): number {
    const lease = this.require(id);
    lease.deadline = this.now() + lease.ttlMs;
    this.heap.update(lease);
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
    const lease = this.byId.get(id);
    if (lease === undefined) return;
    this.byId.delete(id);
    this.heap.remove(lease);
    if (lease.owner !== undefined) {
      const n = (this.perOwner.get(lease.owner) ?? 1) - 1;
      if (n <= 0) this.perOwner.delete(lease.owner);
      else this.perOwner.set(lease.owner, n);
    }
  }

  /**
   * Ids whose deadline has passed, soonest first (ties by id). They leave the
   * heap here; the store then deletes their keys and calls remove().
   */
  expired(): LeaseId[] {
    const t = this.now();
    const out: Lease[] = [];
    for (;;) {
      const next = this.heap.peek();
      this.checks++;
      if (next === undefined || next.deadline > t) break;
      this.heap.remove(next);
      out.push(next);
    }
    return out.sort((a, b) => a.deadline - b.deadline || Number(a.id) - Number(b.id)).map((l) => l.id);
  }

  /** Puts a lease that expired() handed out back in line (its keys could not be deleted yet). */
  requeue(id: LeaseId): void {
    const lease = this.byId.get(id);
    if (lease !== undefined && lease.heapIndex < 0) this.heap.push(lease);
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
