/**
 * Starts a real single-member etcd (Debian etcd-server, /usr/bin/etcd) on free
 * loopback ports with a temporary data directory, for the etcd conformance and
 * restart tests. A missing binary is an error, never a skip: CI must install it
 * (scripts/setup-system.sh).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ETCD_BIN = process.env["GOMS_ETCD_BIN"] ?? "/usr/bin/etcd";

export interface EtcdServer {
  /** "http://127.0.0.1:<port>" */
  readonly endpoint: string;
  readonly dataDir: string;
  /** Stops the process (SIGKILL, like a crash) and waits for it to exit; the data dir stays. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and waits until healthy; `wipe` empties the data dir first (all data lost). */
  restart(opts?: { wipe?: boolean }): Promise<void>;
  /** Kills it and removes the data dir. */
  destroy(): Promise<void>;
  /** Recent stderr/stdout output, for failure messages. */
  output(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ETCD_")) env[k] = v;
  return env;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { health?: unknown };
    return body.health === "true" || body.health === true;
  } catch {
    return false;
  }
}

export async function startEtcd(): Promise<EtcdServer> {
  if (!existsSync(ETCD_BIN)) {
    throw new Error(`${ETCD_BIN} not found: install Debian etcd-server (bash scripts/setup-system.sh); etcd tests never skip`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "goms-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${String(clientPort)}`;
  const peer = `http://127.0.0.1:${String(peerPort)}`;
  const args = [
    "--name", "goms-test",
    "--data-dir", dataDir,
    "--listen-client-urls", endpoint,
    "--advertise-client-urls", endpoint,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `goms-test=${peer}`,
    "--initial-cluster-state", "new",
    "--log-level", "warn",
    // Faster raft ticks: etcd's minimum lease TTL is 1.5 election timeouts
    // rounded up to whole seconds, so this makes a 1 s lease really 1 s
    // (with the defaults, 100/1000 ms, every TTL below 2 s becomes 2 s).
    "--heartbeat-interval", "50",
    "--election-timeout", "500",
  ];
  let proc: ChildProcess | undefined;
  let log = "";
  const capture = (b: Buffer): void => {
    log = (log + b.toString()).slice(-8000);
  };

  const launch = async (): Promise<void> => {
    const p = spawn(ETCD_BIN, args, { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    proc = p;
    p.stdout?.on("data", capture);
    p.stderr?.on("data", capture);
    let exited = false;
    p.once("exit", () => {
      exited = true;
    });
    const end = Date.now() + 15_000;
    while (!(await healthy(endpoint))) {
      if (exited) throw new Error(`etcd exited during startup:\n${log}`);
      if (Date.now() > end) throw new Error(`etcd did not become healthy in 15 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  };

  try {
    await launch();
  } catch (e) {
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    endpoint,
    dataDir,
    kill,
    restart: async (opts = {}) => {
      await kill();
      if (opts.wipe === true) {
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir, { mode: 0o700 });
      }
      await launch();
    },
    destroy: async () => {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
    output: () => log,
  };
}
