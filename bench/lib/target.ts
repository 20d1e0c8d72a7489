/**
 * Glue for target processes (bench/targets/<name>/{server,client}.ts). A target only
 * supplies a start function; this module speaks the IPC protocol to the parent,
 * reports CPU snapshots, runs the load loop, and exits when the parent goes away.
 */
import type { Call } from "./load.js";
import { runLoad } from "./load.js";
import { runStreamLoad, type StreamCall } from "./stream-load.js";
import type { FromClient, FromServer, TargetConfig } from "./protocol.js";
import { errorMessage, parseTargetConfig, parseToClient, parseToServer } from "./protocol.js";

export interface StartedServer {
  /** Number of calls the server has handled so far. */
  count(): number;
  close(): Promise<void>;
}

export interface StartedClient {
  /** What the load loop drives: calls in a closed loop, or server streams it counts messages of. */
  call: Call | StreamCall;
  close(): Promise<void>;
}

/** Thrown by a target's start function to skip the target with a reason (e.g. not built yet). */
export class SkipTarget extends Error {}

function send(msg: FromServer | FromClient): void {
  if (process.send !== undefined && process.connected) process.send(msg);
}

function exitWithParent(): void {
  // Parent died or closed the channel: never linger.
  process.on("disconnect", () => process.exit(0));
}

async function closeAndExit(close: () => Promise<void>): Promise<never> {
  const t = setTimeout(() => process.exit(0), 2000);
  t.unref();
  try {
    await close();
  } catch {
    // closing is best effort
  }
  process.exit(0);
}

export function targetConfig(): TargetConfig {
  return parseTargetConfig(process.env["BENCH_CONFIG"]);
}

export function serverPort(cfg: TargetConfig): number {
  const p = cfg.ports[0];
  if (p === undefined) throw new Error("BENCH_CONFIG has no ports");
  return p;
}

export async function serveTarget(start: (cfg: TargetConfig) => Promise<StartedServer>): Promise<void> {
  exitWithParent();
  let server: StartedServer;
  try {
    server = await start(targetConfig());
  } catch (e) {
    send(e instanceof SkipTarget ? { type: "skip", reason: e.message } : { type: "error", message: errorMessage(e) });
    process.exit(e instanceof SkipTarget ? 0 : 1);
  }
  process.on("message", (raw: unknown) => {
    const msg = parseToServer(raw);
    if (msg === undefined) return;
    if (msg.type === "snap") {
      const u = process.cpuUsage();
      send({ type: "snap", id: msg.id, cpuUs: u.user + u.system, count: server.count() });
    } else {
      void closeAndExit(() => server.close());
    }
  });
  send({ type: "ready" });
}

export async function clientTarget(start: (cfg: TargetConfig) => Promise<StartedClient>): Promise<void> {
  exitWithParent();
  let client: StartedClient;
  try {
    client = await start(targetConfig());
  } catch (e) {
    send(e instanceof SkipTarget ? { type: "skip", reason: e.message } : { type: "error", message: errorMessage(e) });
    process.exit(e instanceof SkipTarget ? 0 : 1);
  }
  process.on("message", (raw: unknown) => {
    const msg = parseToClient(raw);
    if (msg === undefined) return;
    if (msg.type === "close") {
      void closeAndExit(() => client.close());
      return;
    }
    const hooks = { onWindow: (edge: "start" | "end") => send({ type: "window", edge }) };
    const call = client.call;
    (call.kind === "stream" ? runStreamLoad(call, msg.spec, hooks) : runLoad(call, msg.spec, hooks)).then(
      (stats) => send({ type: "result", stats }),
      (e: unknown) => send({ type: "error", message: errorMessage(e) }),
    );
  });
  send({ type: "ready" });
}

/** Retry an async connect-ish step until it succeeds or the deadline passes. */
export async function retry<T>(fn: () => Promise<T>, timeoutMs = 10000, delayMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
