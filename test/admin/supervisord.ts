// Starts a real supervisord (Debian `supervisor`) for a test: temp config, a free
// loopback port, inet_http_server with user/pass, goms nodes as programs.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../procs.js";

export interface Program {
  name: string;
  /** Arguments after `node --import tsx`. */
  args: string[];
  env?: Record<string, string>;
}

export interface Supervisord {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export const SUPERVISOR_USER = "goms";
export const SUPERVISOR_PASS = "s3cret-test-pass";

/** Throws (never skips) when supervisord is missing: install it with scripts/setup-system.sh. */
export function requireSupervisord(): string {
  const r = spawnSync("sh", ["-c", "command -v supervisord"], { encoding: "utf8" });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === "") throw new Error("supervisord is not installed: run `bash scripts/setup-system.sh` (Debian package `supervisor`)");
  return path;
}

export async function startSupervisord(programs: Program[]): Promise<Supervisord> {
  const bin = requireSupervisord();
  const dir = await mkdtemp(join(tmpdir(), "goms-supervisord-"));
  const port = await freePort();
  const repo = resolve(import.meta.dirname, "../..");
  const sections = programs.map((p) => {
    const env = Object.entries({ NODE_NO_WARNINGS: "1", ...(p.env ?? {}) })
      .map(([k, v]) => `${k}="${v}"`)
      .join(",");
    return [
      `[program:${p.name}]`,
      `command=${process.execPath} --import tsx ${p.args.join(" ")}`,
      `directory=${repo}`,
      `environment=${env}`,
      "autostart=true",
      "autorestart=false",
      "startsecs=1",
      "stopsignal=TERM",
      "stopwaitsecs=5",
      "redirect_stderr=true",
      `stdout_logfile=${join(dir, p.name + ".log")}`,
      "",
    ].join("\n");
  });
  const conf = [
    "[unix_http_server]",
    `file=${join(dir, "supervisor.sock")}`,
    "",
    "[inet_http_server]",
    `port=127.0.0.1:${port}`,
    `username=${SUPERVISOR_USER}`,
    `password=${SUPERVISOR_PASS}`,
    "",
    "[supervisord]",
    `logfile=${join(dir, "supervisord.log")}`,
    `pidfile=${join(dir, "supervisord.pid")}`,
    `childlogdir=${dir}`,
    "nodaemon=true",
    "",
    "[rpcinterface:supervisor]",
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    "",
    ...sections,
  ].join("\n");
  const confPath = join(dir, "supervisord.conf");
  await writeFile(confPath, conf);
  const child: ChildProcess = spawn(bin, ["-c", confPath, "-n"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://${SUPERVISOR_USER}:${SUPERVISOR_PASS}@127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`supervisord exited: ${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Basic ${Buffer.from(`${SUPERVISOR_USER}:${SUPERVISOR_PASS}`).toString("base64")}` } })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`supervisord did not come up: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 8000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
