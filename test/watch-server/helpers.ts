import { spawn, type ChildProcess } from "node:child_process";
import { createServer, connect, type Server, type Socket } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { after } from "node:test";
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

const WATCH_CLI = "test/watch-server/fixtures/watch-cli.ts";

/** A `goms watch` child process: its process, URL and output so far. */
export interface WatchProcess {
  p: ChildProcess;
  url: string;
  out: () => string;
}

/** Starts `goms watch <args>` as a child process; resolves once it listens. Kill it with `p.kill()`. */
export async function startWatchProcess(args: string[], children: ChildProcess[]): Promise<WatchProcess> {
  const p = spawn(process.execPath, ["--import", "tsx", WATCH_CLI, "watch", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GOMS_TOKEN: "" } });
  children.push(p);
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`goms watch did not start: ${out}`)), 15_000);
    const check = (): void => {
      const m = /listening on \S+ \((watch:\/\/[^)]+)\)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    p.stdout!.on("data", check);
    p.once("exit", () => reject(new Error(`goms watch exited: ${out}`)));
  });
  return { p, url, out: () => out };
}

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for pid ${String(pid)}`);
  return Number(m[1]) / 1024;
}

/** Child processes and clients of one test file: killed and closed after it. */
export function processFixture(defaults: Partial<WatchClientOptions> = {}): { children: ChildProcess[]; client(url: string, o?: Partial<WatchClientOptions>): WatchClient } {
  const children: ChildProcess[] = [];
  const clients: WatchClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });
  return {
    children,
    client(url, o = {}) {
      const c = createWatchClient({ url, ...defaults, ...o });
      clients.push(c);
      return c;
    },
  };
}

/** A TCP proxy whose connections can be cut. */
export async function proxy(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  return { port, cut, close: () => new Promise<void>((r) => (cut(), server.close(() => r()))) };
}
