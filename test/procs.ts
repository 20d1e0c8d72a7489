import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** Child processes started by a test; killAll() in after(). */
export class Procs {
  private readonly children: { p: ChildProcess; out: string[] }[] = [];

  /** Starts `node --import tsx <args>` and waits until stdout matches `ready`. */
  async start(args: string[], ready: RegExp, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ p: ChildProcess; out: () => string }> {
    const p = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const out: string[] = [];
    p.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
    p.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
    this.children.push({ p, out });
    const deadline = Date.now() + timeoutMs;
    while (!ready.test(out.join(""))) {
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(" ")} not ready: ${out.join("")}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return { p, out: () => out.join("") };
  }

  killAll(): void {
    for (const { p } of this.children) if (p.exitCode === null) p.kill("SIGKILL");
  }

  /**
   * SIGTERM to every child still running, SIGKILL to those not gone after
   * `graceMs`. For children that own processes of their own (`goms run`, a
   * gateway with workers): SIGKILL would leave their copies running.
   */
  async stopAll(graceMs = 15_000): Promise<void> {
    const running = this.children.map((c) => c.p).filter((p) => p.exitCode === null && p.signalCode === null);
    const exited = running.map((p) => new Promise<void>((resolve) => p.once("exit", () => resolve())));
    for (const p of running) p.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(exited), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.killAll();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
