import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { ClientConn } from "../internal/conn/client-conn.js";
import type { Peer } from "./peer.js";

/**
 * Which connected peers host which services. Rebuilt on every peer change so
 * that picking a connection for a call is a map lookup plus round-robin.
 */
export class Router {
  readonly peers = new Map<string, Peer>();
  private byService = new Map<string, Peer[]>();
  private byName = new Map<string, Peer>();
  private readonly cursor = new Map<string, number>();
  private waiters: Array<() => void> = [];

  add(peer: Peer): void {
    this.peers.set(peer.key, peer);
  }

  remove(key: string): Peer | undefined {
    const p = this.peers.get(key);
    if (p) {
      this.peers.delete(key);
      this.rebuild();
    }
    return p;
  }

  /** Re-indexes ready peers and wakes calls waiting for a peer. */
  rebuild(): void {
    const byService = new Map<string, Peer[]>();
    const byName = new Map<string, Peer>();
    for (const p of this.peers.values()) {
      if (p.state !== "ready" || p.identity === undefined) continue;
      byName.set(p.identity.name, p);
      for (const s of p.identity.services) {
        let list = byService.get(s);
        if (!list) byService.set(s, (list = []));
        list.push(p);
      }
    }
    this.byService = byService;
    this.byName = byName;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** A ready connection to a node hosting `service`, round-robin; undefined if none. */
  pick(service: string): ClientConn | undefined {
    const list = this.byService.get(service);
    if (list === undefined) return undefined;
    const n = list.length;
    if (n === 1) {
      const c = list[0]!.conn;
      return c !== undefined && c.ready ? c : undefined;
    }
    const start = (this.cursor.get(service) ?? 0) % n;
    for (let i = 0; i < n; i++) {
      const c = list[(start + i) % n]!.conn;
      if (c !== undefined && c.ready) {
        this.cursor.set(service, start + i + 1);
        return c;
      }
    }
    return undefined;
  }

  /** The ready connection of the node named `name`. */
  pickNode(name: string): ClientConn | undefined {
    const c = this.byName.get(name)?.conn;
    return c !== undefined && c.ready ? c : undefined;
  }

  /** Every ready peer hosting `service`. */
  all(service: string): readonly Peer[] {
    return this.byService.get(service) ?? [];
  }

  /** Fully-qualified names of every service some ready peer hosts. */
  services(): string[] {
    return [...this.byService.keys()];
  }

  /** True while some peer is dialling: a call with no target yet may wait for it. */
  get connecting(): boolean {
    for (const p of this.peers.values()) if (p.state === "connecting") return true;
    return false;
  }

  /** Resolves on the next peer change, or rejects when `deadline` passes or `signal` aborts. */
  waitChange(deadline: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        cleanup();
        reject(GomsError.from(signal!.reason, Code.Canceled));
      };
      const wake = (): void => {
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiters = this.waiters.filter((w) => w !== wake);
      };
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new GomsError("deadline exceeded while waiting for a node", Code.DeadlineExceeded));
        }, Math.max(0, deadline - Date.now()));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(wake);
    });
  }
}
