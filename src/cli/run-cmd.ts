import { availableParallelism } from "node:os";
import { Command, InvalidArgumentError } from "commander";
import { GomsError, codeToString } from "../errors/index.js";
import { createInstanceManager, describeInstanceEvent, type InstanceManager } from "../instances/index.js";

/** Commander parser for a count: an integer ≥ 1. */
export function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected an integer ≥ 1");
  return n;
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

export interface RunCliOptions {
  instances: number;
  baseId: number;
  name?: string;
  port?: number;
  registry?: string;
  healthPort?: number;
  healthHost?: string;
  grace: number;
  maxRestarts: number;
}

/** Node flags for an entry file: TypeScript runs through tsx, as `npm run example` does. */
export function execArgvFor(entry: string): string[] {
  return /\.[mc]?ts$/.test(entry) ? ["--import", "tsx"] : [];
}


/** Starts the manager and wires SIGINT/SIGTERM to a drain. Resolves once every instance is spawned. */
export async function runInstances(entry: string, args: string[], o: RunCliOptions, out: (line: string) => void): Promise<InstanceManager> {
  let failed = 0;
  let stopping = false;
  const stop = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    out(`goms run: ${why}, draining ${o.instances} instance(s) (grace ${o.grace} ms)`);
    manager.close({ graceMs: o.grace }).then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  const manager = createInstanceManager({
    program: { file: entry, args, execArgv: execArgvFor(entry) },
    instances: o.instances,
    baseId: o.baseId,
    ...(o.name !== undefined ? { namePrefix: o.name } : {}),
    ...(o.port !== undefined ? { basePort: o.port } : {}),
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    ...(o.healthPort !== undefined ? { health: { port: o.healthPort, ...(o.healthHost !== undefined ? { host: o.healthHost } : {}) } } : {}),
    restart: { maxAttempts: o.maxRestarts },
    shutdownGraceMs: o.grace,
    onOutput: (i, line) => out(`[${i}] ${line}`),
    onEvent: (e) => {
      out(`goms run: ${describeInstanceEvent(e)}`);
      if (e.type === "failed" && ++failed === o.instances) stop("every instance failed", 1);
    },
  });
  await manager.start();
  out(`goms run: ${o.instances} instance(s) of ${entry}; SIGTERM or Ctrl-C drains them`);
  process.once("SIGINT", () => stop("SIGINT", 0));
  process.once("SIGTERM", () => stop("SIGTERM", 0));
  return manager;
}

/** `goms run <entry> --instances N`: N copies of a node program on this machine. */
export function registerRunCommand(program: Command): Command {
  return program
    .command("run")
    .description("run N copies of a node program on this machine, restarted if they crash, drained on SIGTERM (see docs/instances.md)")
    .argument("<entry>", "the program (.js, or .ts through tsx), e.g. examples/microservice/db.ts")
    .argument("[args...]", "arguments for the program (after --)")
    .option("--instances <n>", "copies to run (default: the number of cores)", count, availableParallelism())
    .option("--base-id <id>", "node ids are base-id + instance index (GOMS_NODE_ID)", nonNegative, 0)
    .option("--name <prefix>", "node names are prefix + node id (GOMS_NODE_NAME)")
    .option("--port <port>", "ports are port + instance index; 0: each picks a free one, callers find it in the registry (GOMS_PORT)", nonNegative)
    .option("--registry <url>", "registry for the instances (GOMS_REGISTRY)")
    .option("--health-port <port>", "plain-HTTP /livez and /readyz for orchestrators' probes on port + instance index; 0: a free one each (GOMS_HEALTH_PORT)", nonNegative)
    .option("--health-host <host>", "address of the health ports (GOMS_HEALTH_HOST; default 127.0.0.1)")
    .option("--grace <ms>", "drain time on SIGTERM before the rest are killed", nonNegative, 10_000)
    .option("--max-restarts <n>", "crashes in a row (each within 10 s of starting) before an instance is given up", count, 10)
    .action(async (entry: string, args: string[], o: RunCliOptions) => {
      try {
        await runInstances(entry, args, o, (line) => process.stdout.write(line + "\n"));
      } catch (err) {
        const e = GomsError.from(err);
        process.stderr.write(`error: ${codeToString(e.code)}: ${e.rawMessage}\n`);
        process.exit(1);
      }
    });
}
