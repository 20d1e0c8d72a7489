import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KvEvent, KvWatch } from "../../src/kv/backend.js";
import { createWatchClient, createWatchServer, type WatchClient, type WatchClientOptions, type WatchServer, type WatchServerOptions } from "../../src/watch/index.js";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Servers and clients closed together at the end of a test. */
export class Fixture {
  private readonly servers: WatchServer[] = [];
  private readonly clients: WatchClient[] = [];
  private readonly dirs: string[] = [];

  async server(o: WatchServerOptions = {}): Promise<WatchServer> {
    const s = createWatchServer({ ...o, listen: { port: 0, ...o.listen } });
    this.servers.push(s);
    return s.start();
  }

  client(url: string, o: Partial<WatchClientOptions> = {}): WatchClient {
    const c = createWatchClient({ url, retry: { initialMs: 20, maxMs: 200 }, ...o });
    this.clients.push(c);
    return c;
  }

  tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), "goms-watchsrv-"));
    this.dirs.push(d);
    return d;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.servers.splice(0).map((s) => s.close({ graceMs: 200 })));
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Reads exactly n events, failing if the watch ends or stalls. */
export async function take(w: KvWatch, n: number, timeoutMs = 3000): Promise<KvEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: KvEvent[] = [];
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch stalled after ${String(out.length)} of ${String(n)} events`)), timeoutMs);
    });
    try {
      const r = await Promise.race([it.next(), stalled]);
      if (r.done === true) throw new Error(`watch ended after ${String(out.length)} of ${String(n)} events`);
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** "rev:type:key=value" summaries. */
export function brief(e: KvEvent): string {
  return `${String(e.revision)}:${e.type}:${e.key}=${dec(e.value) ?? ""}`;
}
