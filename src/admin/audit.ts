import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface AuditEntry {
  /** ISO time. */
  time: string;
  /** User name ("-" before login). */
  user: string;
  ip: string;
  /** e.g. "login", "process.restart", "call". */
  action: string;
  /** e.g. "local/db0", "goms.examples.v1.DB/Query". */
  target: string;
  outcome: "ok" | "denied" | "error";
  detail?: string;
}

/** Append-only JSONL audit log (`audit.jsonl` in the data directory). */
export class AuditLog {
  readonly path: string;
  private chain: Promise<void> = Promise.resolve();
  private listeners = new Set<(e: AuditEntry) => void>();

  constructor(dataDir: string) {
    this.path = join(dataDir, "audit.jsonl");
  }

  record(e: Omit<AuditEntry, "time">): Promise<void> {
    const entry: AuditEntry = { time: new Date().toISOString(), ...e };
    const line = JSON.stringify(entry) + "\n";
    this.chain = this.chain.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, line, { mode: 0o600 });
    });
    for (const fn of this.listeners) fn(entry);
    return this.chain;
  }

  onEntry(fn: (e: AuditEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The newest `limit` entries, newest first. */
  async tail(limit: number): Promise<AuditEntry[]> {
    await this.chain;
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch {
      return [];
    }
    const lines = text.split("\n").filter((l) => l.length > 0);
    const out: AuditEntry[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      try {
        out.push(JSON.parse(lines[i]!) as AuditEntry);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
    return out;
  }
}
