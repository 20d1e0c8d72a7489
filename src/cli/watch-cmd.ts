import { Command, InvalidArgumentError } from "commander";
import { GomsError, codeToString } from "../errors/index.js";
import { createWatchServer, type WatchServer } from "../watch/server.js";

function portOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

export interface WatchCommandOptions {
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
