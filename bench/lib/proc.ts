/**
 * Child process management for the bench parent: fork target processes with tsx,
 * keep a tail of their output for error reports, receive typed IPC messages with
 * timeouts, and make sure every child dies when the parent exits (normally, on an
 * error, or on ctrl-c).
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const c of live) {
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

export function getFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** Resident set size of a live process, MB (Linux: VmRSS in /proc/<pid>/status); undefined when it cannot be read (process gone, not Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] === undefined ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

export interface SpawnOptions {
  name: string;
  module: string;
  env: Record<string, string>;
  execArgv: string[];
  verbose: boolean;
}

/** A forked target with a typed, queued IPC inbox. */
export class TargetProcess<In, Out extends object> {
  readonly proc: ChildProcess;
  private readonly inbox: In[] = [];
  private waiter: ((m: In | Error) => void) | undefined;
  private out = "";
  private exitInfo: string | undefined;

  constructor(
    private readonly opts: SpawnOptions,
    parse: (x: unknown) => In | undefined,
  ) {
    this.proc = fork(opts.module, [], {
      execArgv: opts.execArgv,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    live.add(this.proc);
    const keep = (chunk: Buffer): void => {
      if (opts.verbose) process.stderr.write(`[${opts.name}] ${chunk.toString()}`);
      this.out = (this.out + chunk.toString()).slice(-4000);
    };
    this.proc.stdout?.on("data", keep);
    this.proc.stderr?.on("data", keep);
    this.proc.on("message", (raw: unknown) => {
      let m: In | undefined;
      try {
        m = parse(raw);
      } catch {
        m = undefined;
      }
      if (m === undefined) return;
      this.deliver(m);
    });
    this.proc.on("exit", (code, signal) => {
      live.delete(this.proc);
      this.exitInfo = `exited (code ${String(code)}, signal ${String(signal)})`;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(new Error(`${opts.name} ${this.exitInfo}${this.tail()}`));
    });
    this.proc.on("error", (e) => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.(e);
    });
  }

  /** The child's process id, undefined once it exited (or if it never started). */
  get pid(): number | undefined {
    return this.exitInfo === undefined ? this.proc.pid : undefined;
  }

  private deliver(m: In): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(m);
    } else {
      this.inbox.push(m);
    }
  }

  tail(): string {
    const t = this.out.trim();
    return t === "" ? "" : `\n--- ${this.opts.name} output (tail) ---\n${t.split("\n").slice(-15).join("\n")}`;
  }

  send(m: Out): void {
    if (this.proc.connected) this.proc.send(m);
  }

  /** Next IPC message, or an error on timeout / process exit. */
  next(timeoutMs: number, what: string): Promise<In> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exitInfo !== undefined) {
      return Promise.reject(new Error(`${this.opts.name} ${this.exitInfo} while waiting for ${what}${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.opts.name}: timed out after ${timeoutMs} ms waiting for ${what}${this.tail()}`));
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
    });
  }

  /** Ask politely (`closeMsg`), then SIGKILL after `graceMs`. */
  async stop(closeMsg: Out, graceMs = 3000): Promise<void> {
    if (this.exitInfo !== undefined) return;
    const exited = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.send(closeMsg);
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
