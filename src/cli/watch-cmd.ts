import { Command, InvalidArgumentError } from "commander";
import { GomsError, codeToString } from "../errors/index.js";
import type { StoreLimits } from "../kv/limits.js";
import { createWatchServer, type WatchServer } from "../watch/server.js";

function portOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

const UNITS: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A byte size: "4096", "4KiB", "1.5MiB", "1GiB" (binary units). */
function sizeOption(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m === null ? undefined : UNITS[m[2]!.toLowerCase()];
  const n = m === null || unit === undefined ? Number.NaN : Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a size such as 4096, 4KiB, 1.5MiB");
  return n;
}

function countOption(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

export interface WatchCommandOptions extends Partial<StoreLimits> {
  port: number;
  host: string;
  dir?: string;
  token?: string;
  fsync: boolean;
}

/** Starts the server and closes it gracefully on SIGINT/SIGTERM. Resolves once it is listening. */
export async function runWatchServer(o: WatchCommandOptions, out: (line: string) => void): Promise<WatchServer> {
  const token = o.token ?? process.env["GOMS_TOKEN"];
  const server = createWatchServer({
    listen: { host: o.host, port: o.port },
    fsync: o.fsync,
    store: { limits: pickLimits(o) },
    ...(o.dir === undefined ? {} : { dir: o.dir }),
    ...(token === undefined || token === "" ? {} : { auth: { token } }),
  });
  await server.start();
  const recovery = server.store.recovery;
  if (recovery !== undefined) {
    out(`goms watch: opened ${o.dir ?? ""} at revision ${String(server.store.revision)} (${String(recovery.recordsReplayed)} log records replayed)`);
    for (const w of recovery.warnings) out(`goms watch: warning: ${w}`);
  }
  out(`goms watch listening on ${server.address} (${server.url})`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    out(`goms watch: ${signal}, closing`);
    server.close({ graceMs: 2000 }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return server;
}

function pickLimits(o: Partial<StoreLimits>): Partial<StoreLimits> {
  const { maxKeyBytes, maxValueBytes, historyBytes, maxLeases, maxLeasesPerClient } = o;
  const all = { maxKeyBytes, maxValueBytes, historyBytes, maxLeases, maxLeasesPerClient };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** Adds `goms watch`: the standalone watch (registry) server. */
export function registerWatchCommand(program: Command): Command {
  return program
    .command("watch")
    .description("run the watch server (the KV registry store) until SIGINT/SIGTERM")
    .option("--port <port>", "port to listen on (0 picks a free one)", portOption, 12345)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--dir <dir>", "persist non-leased keys in this directory (default: memory only)")
    .option("--token <token>", "token required from clients (or GOMS_TOKEN)")
    .option("--no-fsync", "do not fsync each change (faster, loses the last changes on a crash)")
    .option("--max-key-bytes <size>", "longest key accepted (default 4KiB)", sizeOption)
    .option("--max-value-bytes <size>", "largest value accepted (default 1.5MiB)", sizeOption)
    .option("--history-bytes <size>", "bytes of keys and values the watch history keeps (default 64MiB)", sizeOption)
    .option("--max-leases <n>", "live leases in total (default 10000)", countOption)
    .option("--max-leases-per-client <n>", "live leases one client connection may hold (default 1000)", countOption)
    .action(async (o: WatchCommandOptions) => {
      try {
        await runWatchServer(o, (line) => process.stdout.write(line + "\n"));
      } catch (err) {
        const e = GomsError.from(err);
        process.stderr.write(`error: ${codeToString(e.code)}: ${e.rawMessage}\n`);
        process.exit(1);
      }
    });
}
