/**
 * Login throttling per (user, IP): after `free` consecutive failures each
 * further failure locks the pair for baseMs * 2^(n - free), capped at maxMs.
 * A success clears the pair.
 */
export class LoginThrottle {
  private readonly state = new Map<string, { failures: number; lockedUntil: number; last: number }>();

  constructor(
    private readonly free = 3,
    private readonly baseMs = 1000,
    private readonly maxMs = 15 * 60_000,
  ) {}

  private key(user: string, ip: string): string {
    return `${user}\u0000${ip}`;
  }

  /** Milliseconds until this pair may try again (0: now). */
  retryAfterMs(user: string, ip: string, now = Date.now()): number {
    const s = this.state.get(this.key(user, ip));
    return s ? Math.max(0, s.lockedUntil - now) : 0;
  }

  failure(user: string, ip: string, now = Date.now()): void {
    this.prune(now);
    const k = this.key(user, ip);
    const s = this.state.get(k) ?? { failures: 0, lockedUntil: 0, last: now };
    s.failures++;
    s.last = now;
    if (s.failures >= this.free) s.lockedUntil = now + Math.min(this.maxMs, this.baseMs * 2 ** (s.failures - this.free));
    this.state.set(k, s);
  }

  success(user: string, ip: string): void {
    this.state.delete(this.key(user, ip));
  }

  /** Forgets pairs idle for longer than the maximum lock (bounded memory). */
  private prune(now: number): void {
    if (this.state.size < 10_000) return;
    for (const [k, s] of this.state) if (now - s.last > this.maxMs && s.lockedUntil < now) this.state.delete(k);
  }
}
