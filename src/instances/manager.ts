import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { gomsError } from "../errors/index.js";
import { backoffDelay, type BackoffOptions } from "../internal/util/backoff.js";
import { instanceVars, type HealthPortOptions } from "./env.js";

/** The program every instance runs: `node [execArgv] file [args]`. */
export interface InstanceProgram {
  file: string;
  args?: string[];
  /** Node flags before the file, e.g. ["--import", "tsx"] for a .ts entry. */
  execArgv?: string[];
  /** Extra environment for every instance (on top of this process's). */
  env?: Record<string, string>;
  /** Working directory. Default: this process's. */
  cwd?: string;
}

export interface RestartOptions {
  /** Backoff between a crash and the restart: exponential with jitter, from initialMs up to maxMs. Default 200 ms … 10 s. */
  backoff?: BackoffOptions;
  /** A run at least this long counts as stable: the next crash restarts from initialMs again. Default 10 s. */
  stableMs?: number;
  /** Crashes in a row (each before stableMs) after which the instance is given up. Default 10. */
  maxAttempts?: number;
}

export type InstanceState = "starting" | "running" | "backoff" | "stopping" | "exited" | "failed";

export interface InstanceInfo {
  index: number;
  nodeId: number;
  state: InstanceState;
  /** The current process, when one runs. */
  pid: number | undefined;
  /** Restarts after a crash so far. */
  restarts: number;
}

export type InstanceEvent =
  | { type: "started"; index: number; pid: number }
  | { type: "exited"; index: number; pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean }
  | { type: "restarting"; index: number; inMs: number; attempt: number }
  | { type: "failed"; index: number; attempts: number };

export interface InstanceManagerOptions {
  /** The program each instance runs; or give `spawn`. */
  program?: InstanceProgram;
  /**
   * Starts instance processes yourself, e.g. `(env) => cluster.fork(env).process`
   * so that the copies share a listening port. `env` holds the instance's
   * variables (./env.ts). Replaces `program`.
   */
  spawn?: (env: Record<string, string>) => ChildProcess;
  /** How many copies to run (≥ 1). */
  instances: number;
  /** Node ids are baseId + index. Default 0. */
  baseId?: number;
  /** When set, instance i gets GOMS_NODE_NAME = namePrefix + its node id. */
  namePrefix?: string;
  /** When set, instance i gets GOMS_PORT = basePort + i (0: every instance picks a free port). */
  basePort?: number;
  /** Passed to the instances as GOMS_REGISTRY. */
  registry?: string;
  /**
   * A plain-HTTP health port per instance for orchestrators' probes: instance i
   * gets GOMS_HEALTH_PORT = port + i (0: a free port each) and GOMS_HEALTH_HOST;
   * the program serves it with startHealthPort(node).
   */
  health?: HealthPortOptions;
  restart?: RestartOptions;
  /** Default grace period of close(): time the instances get to drain after SIGTERM before SIGKILL. Default 10 s. */
  shutdownGraceMs?: number;
  /** Each line an instance writes (stdout and stderr). Default: dropped. */
  onOutput?: (index: number, line: string, stream: "stdout" | "stderr") => void;
  onEvent?: (e: InstanceEvent) => void;
}

export interface InstanceManager {
  /** Starts every instance; resolves once each process is spawned. */
  start(): Promise<InstanceManager>;
  /**
   * Sends SIGTERM to every instance (a goms node drains on it), cancels pending
   * restarts, waits up to graceMs (default shutdownGraceMs) for them to exit,
   * then SIGKILLs the rest. Resolves once every process has exited.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  instances(): InstanceInfo[];
}

interface Slot {
  info: InstanceInfo;
  child: ChildProcess | undefined;
  startedAt: number;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/**
 * Runs N copies of a node program on one machine, each a node of its own
 * (identity and port through the env convention of ./env.ts), restarts a copy
 * that crashes with bounded exponential backoff, and drains them all on close().
 * An instance that exits with code 0 by itself has finished and is not restarted.
 */
export function createInstanceManager(o: InstanceManagerOptions): InstanceManager {
  if (!Number.isInteger(o.instances) || o.instances < 1) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "instances", problem: `expected an integer ≥ 1, got ${String(o.instances)}` });
  const program = o.program;
  if ((program === undefined) === (o.spawn === undefined)) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "program", problem: "give either program or spawn" });
  if (program?.file === "") throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "program.file", problem: "is empty" });
  const baseId = o.baseId ?? 0;
  const backoff = o.restart?.backoff ?? DEFAULT_BACKOFF;
  const stableMs = o.restart?.stableMs ?? 10_000;
  const maxAttempts = o.restart?.maxAttempts ?? 10;
  const emit = (e: InstanceEvent): void => o.onEvent?.(e);
  const slots: Slot[] = Array.from({ length: o.instances }, (_, index) => ({
    info: { index, nodeId: baseId + index, state: "exited", pid: undefined, restarts: 0 },
    child: undefined,
    startedAt: 0,
    attempts: 0,
    timer: undefined,
  }));
  let started = false;
  let closing: Promise<void> | undefined;

  const launch = (s: Slot): void => {
    const i = s.info.index;
    const vars = instanceVars(i, { instances: o.instances, baseId, namePrefix: o.namePrefix, basePort: o.basePort, registry: o.registry, health: o.health });
    const child =
      program === undefined
        ? o.spawn!(vars)
        : spawn(process.execPath, [...(program.execArgv ?? []), program.file, ...(program.args ?? [])], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, ...program.env, ...vars },
            ...(program.cwd !== undefined ? { cwd: program.cwd } : {}),
          });
    s.child = child;
    s.startedAt = Date.now();
    s.info.state = "running";
    s.info.pid = child.pid;
    for (const stream of ["stdout", "stderr"] as const) {
      const r = child[stream];
      if (r === null) continue;
      if (o.onOutput === undefined) r.resume();
      else createInterface({ input: r, crlfDelay: Infinity }).on("line", (line) => o.onOutput?.(i, line, stream));
    }
    // A spawn failure (e.g. EAGAIN) is followed by "close" with code -2 or similar; it counts as a crash.
    child.once("error", () => undefined);
    child.once("close", (code, signal) => exited(s, child, code, signal));
    if (child.pid !== undefined) emit({ type: "started", index: i, pid: child.pid });
  };

  const exited = (s: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void => {
    if (s.child !== child) return;
    s.child = undefined;
    s.info.pid = undefined;
    const expected = closing !== undefined || code === 0;
    emit({ type: "exited", index: s.info.index, pid: child.pid ?? 0, code, signal, expected });
    if (expected) {
      s.info.state = "exited";
      return;
    }
    if (Date.now() - s.startedAt >= stableMs) s.attempts = 0;
    if (s.attempts >= maxAttempts) {
      s.info.state = "failed";
      emit({ type: "failed", index: s.info.index, attempts: s.attempts });
      return;
    }
    const inMs = backoffDelay(s.attempts, backoff);
    s.attempts++;
    s.info.state = "backoff";
    emit({ type: "restarting", index: s.info.index, inMs, attempt: s.attempts });
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (closing !== undefined) return;
      s.info.restarts++;
      launch(s);
    }, inMs);
  };

  const stopAll = async (graceMs: number): Promise<void> => {
    const waits: Promise<void>[] = [];
    for (const s of slots) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
      const child = s.child;
      if (child === undefined) continue;
      s.info.state = "stopping";
      waits.push(new Promise<void>((resolve) => child.once("close", () => resolve())));
      child.kill("SIGTERM");
    }
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), graceMs)));
    const all = Promise.all(waits);
    if ((await Promise.race([all, graceOver])) === "timeout") for (const s of slots) s.child?.kill("SIGKILL");
    clearTimeout(timer);
    await all;
  };

  const manager: InstanceManager = {
    start() {
      if (started) return Promise.reject(gomsError("GOMS_ERR_BAD_STATE", { why: "the instance manager was already started" }));
      started = true;
      for (const s of slots) launch(s);
      return Promise.resolve(manager);
    },
    close(opts) {
      closing ??= stopAll(opts?.graceMs ?? o.shutdownGraceMs ?? 10_000);
      return closing;
    },
    instances: () => slots.map((s) => ({ ...s.info })),
  };
  return manager;
}
