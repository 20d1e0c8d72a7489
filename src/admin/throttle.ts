import { CappedMap } from "../internal/util/capped-map.js";
import { gomsError } from "../errors/index.js";

/** Login throttle settings (AdminOptions.loginThrottle, docs/admin.md "Limits"). */
export interface ThrottleLimits {
  /** Failures per (user, IP) before each further one locks the pair. Default 3. */
  freeFailures?: number;
  /** Failures per IP, across user names, before each further one locks the IP. Default 10. */
  ipFreeFailures?: number;
  /** First lock, ms; it doubles with each failure. Default 1000. */
  baseMs?: number;
  /** Longest lock, ms; also how long an idle entry is remembered. Default 900000 (15 min). */
  maxMs?: number;
  /** Entries per table (pairs, IPs). When full and nothing has expired, logins are refused (429). Default 10000. */
  maxEntries?: number;
}

const DEFAULTS: Required<ThrottleLimits> = { freeFailures: 3, ipFreeFailures: 10, baseMs: 1000, maxMs: 15 * 60_000, maxEntries: 10_000 };

interface Entry {
  /** Attempts that failed or are being checked (an attempt counts from its reservation). */
  failures: number;
  lockedUntil: number;
  last: number;
}

/** What reserve() answers: go ahead (with a ticket for success()/failure()), or wait. */
export type Reservation = { ok: true; ticket: Ticket } | { ok: false; retryAfterMs: number };

/** One reserved attempt; settle it with success() (a failure needs nothing more). */
export interface Ticket {
  readonly pair: string;
  readonly ip: string;
}

/**
 * Login throttling per (user, IP) and per IP across user names. After `free`
 * failures each further one locks the key for baseMs * 2^(n - free), capped at
 * maxMs.
 *
 * An attempt counts as a failure from the moment it is reserved, before the
 * slow password hash: otherwise many guesses sent at once would all be checked
 * before the first failure is recorded. A success gives its attempt back and
 * clears the pair (not the IP: one good account must not reset an IP's count).
 *
 * Both tables are CappedMaps. Expired entries are swept when a table is full;
 * if it is still full, reserve() refuses (fail closed): flooding the table
 * must not make room for unthrottled guesses.
 */
export class LoginThrottle {
  private readonly o: Required<ThrottleLimits>;
  private readonly pairs: CappedMap<string, Entry>;
  private readonly ips: CappedMap<string, Entry>;
  private lastSweep = 0;

  constructor(limits: ThrottleLimits = {}) {
    this.o = { ...DEFAULTS, ...limits };
    const full = (limit: number) => gomsError("GOMS_ERR_TOO_MANY_ATTEMPTS", { what: `login (throttle table of ${limit} full)` });
    this.pairs = new CappedMap(this.o.maxEntries, full);
    this.ips = new CappedMap(this.o.maxEntries, full);
  }

  /** Reserves one attempt of `user` from `ip`, or says how long to wait. */
  reserve(user: string, ip: string, now = Date.now()): Reservation {
    const pair = `${user}\u0000${ip}`;
    const p = this.live(this.pairs, pair, now);
    const i = this.live(this.ips, ip, now);
    const wait = Math.max(p?.lockedUntil ?? 0, i?.lockedUntil ?? 0) - now;
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    if (!this.room(this.pairs, pair, now) || !this.room(this.ips, ip, now)) return { ok: false, retryAfterMs: this.o.baseMs };
    this.count(this.pairs, pair, p, this.o.freeFailures, now);
    this.count(this.ips, ip, i, this.o.ipFreeFailures, now);
    return { ok: true, ticket: { pair, ip } };
  }

  /** The reserved attempt succeeded: clear the pair, give the attempt back to the IP. */
  success(t: Ticket): void {
    this.pairs.delete(t.pair);
    const i = this.ips.get(t.ip);
    if (i !== undefined && i.failures > 0) i.failures--;
  }

  /** Entries held (pairs + IPs), for tests and stats. */
  get size(): number {
    return this.pairs.size + this.ips.size;
  }

  /** The entry, or undefined once it is idle past maxMs and unlocked (forgotten). */
  private live(table: CappedMap<string, Entry>, key: string, now: number): Entry | undefined {
    const e = table.get(key);
    if (e !== undefined && this.expired(e, now)) {
      table.delete(key);
      return undefined;
    }
    return e;
  }

  private expired(e: Entry, now: number): boolean {
    return now - e.last > this.o.maxMs && e.lockedUntil <= now;
  }

  private count(table: CappedMap<string, Entry>, key: string, e: Entry | undefined, free: number, now: number): void {
    const entry = e ?? { failures: 0, lockedUntil: 0, last: now };
    entry.failures++;
    entry.last = now;
    if (entry.failures >= free) entry.lockedUntil = now + Math.min(this.o.maxMs, this.o.baseMs * 2 ** (entry.failures - free));
    table.set(key, entry); // room() made sure it fits
  }

  /** True when `key` is in the table or fits, after sweeping expired entries (at most once a second). */
  private room(table: CappedMap<string, Entry>, key: string, now: number): boolean {
    if (!table.isFull || table.has(key)) return true;
    if (now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      for (const t of [this.pairs, this.ips]) for (const [k, e] of t) if (this.expired(e, now)) t.delete(k);
    }
    return !table.isFull;
  }
}
