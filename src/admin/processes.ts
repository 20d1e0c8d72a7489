import type { HostStatus, ProcessRow } from "./api-types.js";
import { SupervisorClient, type SupervisorConfig } from "./supervisor.js";

export type ProcessAction = "start" | "stop" | "restart" | "drain";

export function isProcessAction(s: string): s is ProcessAction {
  return s === "start" || s === "stop" || s === "restart" || s === "drain";
}

export type { HostStatus, ProcessRow };

/**
 * Every configured supervisord: polls process state (so that changes made
 * elsewhere show up too), runs actions and reports each change of a row.
 */
export class ProcessControl {
  readonly clients = new Map<string, SupervisorClient>();
  private rows = new Map<string, ProcessRow>();
  private hosts = new Map<string, HostStatus>();
  private readonly pending = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    configs: readonly SupervisorConfig[],
    private readonly onChange: (rows: ProcessRow[], hosts: HostStatus[]) => void,
    private readonly pollMs = 1000,
  ) {
    for (const c of configs) {
      if (this.clients.has(c.name)) throw new Error(`duplicate supervisor name ${c.name}`);
      const client = new SupervisorClient(c);
      this.clients.set(c.name, client);
      this.hosts.set(c.name, { host: c.name, url: client.displayUrl, ok: false, error: "not polled yet" });
    }
  }

  start(): void {
    if (this.clients.size === 0 || this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  list(): { processes: ProcessRow[]; hosts: HostStatus[] } {
    return { processes: [...this.rows.values()], hosts: [...this.hosts.values()] };
  }

  /** Polls every host now (concurrent callers share one poll). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const next = new Map<string, ProcessRow>();
    const hosts = new Map<string, HostStatus>();
    await Promise.all(
      [...this.clients.values()].map(async (c) => {
        try {
          for (const p of await c.list()) {
            const key = `${c.name}/${p.name}`;
            const pending = this.pending.get(key);
            next.set(key, pending !== undefined ? { ...p, pending } : p);
          }
          hosts.set(c.name, { host: c.name, url: c.displayUrl, ok: true });
        } catch (e) {
          hosts.set(c.name, { host: c.name, url: c.displayUrl, ok: false, error: (e as Error).message });
          for (const [k, r] of this.rows) if (r.host === c.name) next.set(k, { ...r, state: "UNKNOWN" });
        }
      }),
    );
    const changed = !sameRows(this.rows, next) || JSON.stringify([...hosts.values()]) !== JSON.stringify([...this.hosts.values()]);
    this.rows = next;
    this.hosts = hosts;
    if (changed) this.onChange([...next.values()], [...hosts.values()]);
  }

  client(host: string): SupervisorClient | undefined {
    return this.clients.get(host);
  }

  row(host: string, name: string): ProcessRow | undefined {
    return this.rows.get(`${host}/${name}`);
  }

  /**
   * Runs an action and waits for it. restart = stop then start (supervisord
   * has no restart call). drain = stop: supervisord sends the stop signal
   * (SIGTERM) and goms nodes then close gracefully (leave the registry first,
   * finish in-flight calls), with SIGKILL only after stopwaitsecs.
   */
  async act(host: string, name: string, action: ProcessAction): Promise<void> {
    const c = this.clients.get(host);
    if (!c) throw new Error(`no supervisor ${host}`);
    await this.poll();
    const row = this.rows.get(`${host}/${name}`);
    if (!row) throw new Error(`no process ${name} on ${host}`);
    const key = `${host}/${name}`;
    const mark = async (pending: string | undefined): Promise<void> => {
      if (pending === undefined) this.pending.delete(key);
      else this.pending.set(key, pending);
      await this.poll();
    };
    try {
      switch (action) {
        case "start":
          await mark("STARTING");
          await c.start(row.fullName);
          break;
        case "stop":
          await mark("STOPPING");
          await c.stop(row.fullName);
          break;
        case "restart":
          await mark("RESTARTING");
          if (row.state === "RUNNING" || row.state === "STARTING" || row.state === "BACKOFF") await c.stop(row.fullName);
          await c.start(row.fullName);
          break;
        case "drain":
          await mark("DRAINING");
          await c.stop(row.fullName);
          break;
      }
    } finally {
      await mark(undefined);
    }
  }
}

function sameRows(a: Map<string, ProcessRow>, b: Map<string, ProcessRow>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, r] of b) {
    const o = a.get(k);
    if (!o || o.state !== r.state || o.pid !== r.pid || o.pending !== r.pending) return false;
  }
  return true;
}
