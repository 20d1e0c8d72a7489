import { Code, GomsError } from "../errors/index.js";
import { backoffDelay } from "../internal/util/backoff.js";
import type { KvBackend } from "../kv/backend.js";
import type { LeaseId } from "../kv/lease.js";
import { sleep } from "../internal/util/sleep.js";
import { isTransient } from "../internal/util/transient.js";

/**
 * - `registering`: the first write has not succeeded yet;
 * - `registered`: the key is written and its lease is being kept alive;
 * - `retrying`: the last keepalive or write failed; retrying with backoff;
 * - `conflict`: the key is held by another live lease (a second node with the
 *   same set/name); this one keeps its lease and takes over if the key goes;
 * - `closed`: deregistered by `close()`;
 * - `abandoned`: stopped by `abandon()` without deregistering (test hook).
 */
export type RegistrationState = "registering" | "registered" | "retrying" | "conflict" | "closed" | "abandoned";

export interface RegistrationHooks {
  /** Every failure of the background loop (it keeps going). Never throws into the loop. */
  readonly onError?: (err: GomsError) => void;
  /** Every state change. */
  readonly onStateChange?: (state: RegistrationState) => void;
  /** Gives up waiting for the first successful write. */
  readonly signal?: AbortSignal;
}

/**
 * One node's entry in the registry: a key under a lease, kept alive every
 * ttl/3, re-written by itself (new lease if needed) whenever the lease is gone
 * or the key has vanished, e.g. after a registry restart.
 */
export class Registration {
  private stateValue: RegistrationState = "registering";
  private leaseId: LeaseId | undefined;
  private lastErrorValue: GomsError | undefined;
  private writeCount = 0;
  private readonly ac = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly kv: KvBackend,
    readonly key: string,
    private readonly value: () => Uint8Array,
    readonly ttlMs: number,
    private readonly hooks: RegistrationHooks = {},
  ) {
    this.intervalMs = Math.max(10, Math.floor(ttlMs / 3));
  }

  get state(): RegistrationState {
    return this.stateValue;
  }
  /** The current lease id, undefined while there is none. */
  get lease(): LeaseId | undefined {
    return this.leaseId;
  }
  /** The most recent error of the background loop. */
  get lastError(): GomsError | undefined {
    return this.lastErrorValue;
  }
  /** How many times the key has been written (1 after the first registration). */
  get writes(): number {
    return this.writeCount;
  }

  /** Writes the key (retrying while the backend is unavailable) and starts the keepalive loop. */
  async start(): Promise<void> {
    const signal = this.hooks.signal === undefined ? this.ac.signal : AbortSignal.any([this.hooks.signal, this.ac.signal]);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writeFresh();
        break;
      } catch (e) {
        const err = this.report(e);
        if (!isTransient(err) || signal.aborted) throw err;
        this.setState("retrying");
        await sleep(this.backoff(attempt), signal);
      }
    }
    this.setState("registered");
    this.loop = this.run();
  }

  /** Stops keeping the lease alive and revokes it, which deletes the key. Never rejects. */
  async close(): Promise<void> {
    if (this.stateValue === "closed" || this.stateValue === "abandoned") return;
    this.ac.abort();
    await this.loop;
    const lease = this.leaseId;
    this.leaseId = undefined;
    this.setState("closed");
    if (lease === undefined) return;
    try {
      await this.kv.revoke(lease);
    } catch (e) {
      const err = GomsError.from(e);
      if (err.code !== Code.NotFound) this.report(err);
    }
  }

  /** Test hook: stops the keepalive without revoking, as if the process had died. */
  abandon(): void {
    if (this.stateValue === "closed" || this.stateValue === "abandoned") return;
    this.ac.abort();
    this.setState("abandoned");
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.ac.signal.aborted) {
      await sleep(attempt === 0 ? this.intervalMs : this.backoff(attempt), this.ac.signal);
      if (this.ac.signal.aborted) return;
      try {
        const held = await this.tick();
        if (this.ac.signal.aborted) return;
        if (!held && this.stateValue !== "conflict") {
          this.report(new GomsError(`registry key ${this.key} is held by another lease (same set/name registered twice?)`, Code.AlreadyExists));
        }
        this.setState(held ? "registered" : "conflict");
        attempt = 0;
      } catch (e) {
        if (this.ac.signal.aborted) return;
        this.report(e);
        this.setState("retrying");
        attempt++;
      }
    }
  }

  /** One keepalive round. Returns false when another lease holds the key. */
  private async tick(): Promise<boolean> {
    if (this.leaseId === undefined) {
      await this.writeFresh();
      return true;
    }
    try {
      await this.kv.keepAlive(this.leaseId);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.report(e);
      this.leaseId = undefined;
      await this.writeFresh();
      return true;
    }
    const cur = await this.kv.get(this.key);
    if (cur !== undefined) return cur.lease === this.leaseId;
    try {
      await this.kv.put(this.key, this.value(), { lease: this.leaseId });
      this.writeCount++;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.leaseId = undefined;
      await this.writeFresh();
    }
    return true;
  }

  /** Grants a new lease and writes the key under it. */
  private async writeFresh(): Promise<void> {
    const lease = await this.kv.grant(this.ttlMs);
    try {
      await this.kv.put(this.key, this.value(), { lease });
    } catch (e) {
      this.kv.revoke(lease).catch(() => undefined);
      throw e;
    }
    if (this.ac.signal.aborted) {
      // close() or abandon() ran meanwhile: do not leave a live key behind.
      this.kv.revoke(lease).catch(() => undefined);
      throw new GomsError(`registration ${this.key} was closed`, Code.Canceled);
    }
    this.leaseId = lease;
    this.writeCount++;
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, { initialMs: 50, maxMs: Math.max(100, Math.min(1000, this.intervalMs)) });
  }

  private setState(s: RegistrationState): void {
    if (this.stateValue === s) return;
    if ((this.stateValue === "closed" || this.stateValue === "abandoned") && s !== "closed") return;
    this.stateValue = s;
    this.hooks.onStateChange?.(s);
  }

  private report(e: unknown): GomsError {
    const err = GomsError.from(e);
    this.lastErrorValue = err;
    try {
      this.hooks.onError?.(err);
    } catch {
      // An observer must not break the loop.
    }
    return err;
  }
}

function isNotFound(e: unknown): boolean {
  return GomsError.is(e) && e.code === Code.NotFound;
}
