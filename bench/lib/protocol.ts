/**
 * IPC protocol between the bench parent and its target processes.
 *
 * parent -> server: {type:"snap", id} | {type:"close"}
 * server -> parent: {type:"ready"} | {type:"snap", id, cpuUs, count} | {type:"skip", reason} | {type:"error", message}
 * parent -> client: {type:"run", spec} | {type:"close"}
 * client -> parent: {type:"ready"} | {type:"window", edge} | {type:"result", stats} | {type:"skip", reason} | {type:"error", message}
 *
 * Target processes get their configuration in the BENCH_CONFIG env var (JSON TargetConfig).
 */

export interface TargetConfig {
  host: string;
  /** ports[0] is the server's listening port; extra ports for targets that need them (Moleculer client). */
  ports: number[];
}

export interface LevelSpec {
  level: number;
  warmupMs: number;
  durationMs: number;
  maxCalls: number;
  drainMs: number;
}

export interface ClientStats {
  level: number;
  calls: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  qps: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  cpuUs: number;
  cpuUsPerCall: number;
  drained: boolean;
}

export type ToServer = { type: "snap"; id: number } | { type: "close" };
export type FromServer =
  | { type: "ready" }
  | { type: "snap"; id: number; cpuUs: number; count: number }
  | { type: "skip"; reason: string }
  | { type: "error"; message: string };
export type ToClient = { type: "run"; spec: LevelSpec } | { type: "close" };
export type FromClient =
  | { type: "ready" }
  | { type: "window"; edge: "start" | "end" }
  | { type: "result"; stats: ClientStats }
  | { type: "skip"; reason: string }
  | { type: "error"; message: string };

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function num(r: Record<string, unknown>, k: string): number {
  const v = r[k];
  if (typeof v !== "number") throw new Error(`bad IPC message: ${k} is not a number`);
  return v;
}
function str(r: Record<string, unknown>, k: string): string {
  const v = r[k];
  if (typeof v !== "string") throw new Error(`bad IPC message: ${k} is not a string`);
  return v;
}

export function parseTargetConfig(raw: string | undefined): TargetConfig {
  if (raw === undefined) throw new Error("BENCH_CONFIG is not set; target processes are started by bench/run.ts");
  const v: unknown = JSON.parse(raw);
  if (!isRecord(v) || typeof v["host"] !== "string" || !Array.isArray(v["ports"])) throw new Error("bad BENCH_CONFIG");
  const ports = v["ports"].filter((p): p is number => typeof p === "number");
  return { host: v["host"], ports };
}

export function parseToServer(x: unknown): ToServer | undefined {
  if (!isRecord(x)) return undefined;
  if (x["type"] === "snap") return { type: "snap", id: num(x, "id") };
  if (x["type"] === "close") return { type: "close" };
  return undefined;
}

export function parseFromServer(x: unknown): FromServer | undefined {
  if (!isRecord(x)) return undefined;
  switch (x["type"]) {
    case "ready":
      return { type: "ready" };
    case "snap":
      return { type: "snap", id: num(x, "id"), cpuUs: num(x, "cpuUs"), count: num(x, "count") };
    case "skip":
      return { type: "skip", reason: str(x, "reason") };
    case "error":
      return { type: "error", message: str(x, "message") };
    default:
      return undefined;
  }
}

export function parseToClient(x: unknown): ToClient | undefined {
  if (!isRecord(x)) return undefined;
  if (x["type"] === "close") return { type: "close" };
  if (x["type"] === "run" && isRecord(x["spec"])) {
    const s = x["spec"];
    return {
      type: "run",
      spec: {
        level: num(s, "level"),
        warmupMs: num(s, "warmupMs"),
        durationMs: num(s, "durationMs"),
        maxCalls: num(s, "maxCalls"),
        drainMs: num(s, "drainMs"),
      },
    };
  }
  return undefined;
}

function parseStats(s: Record<string, unknown>): ClientStats {
  const stats: ClientStats = {
    level: num(s, "level"),
    calls: num(s, "calls"),
    errors: num(s, "errors"),
    elapsedMs: num(s, "elapsedMs"),
    qps: num(s, "qps"),
    p50Us: num(s, "p50Us"),
    p99Us: num(s, "p99Us"),
    meanUs: num(s, "meanUs"),
    maxUs: num(s, "maxUs"),
    cpuUs: num(s, "cpuUs"),
    cpuUsPerCall: num(s, "cpuUsPerCall"),
    drained: s["drained"] === true,
  };
  if (typeof s["firstError"] === "string") stats.firstError = s["firstError"];
  return stats;
}

export function parseFromClient(x: unknown): FromClient | undefined {
  if (!isRecord(x)) return undefined;
  switch (x["type"]) {
    case "ready":
      return { type: "ready" };
    case "window": {
      const edge = x["edge"];
      return edge === "start" || edge === "end" ? { type: "window", edge } : undefined;
    }
    case "result":
      return isRecord(x["stats"]) ? { type: "result", stats: parseStats(x["stats"]) } : undefined;
    case "skip":
      return { type: "skip", reason: str(x, "reason") };
    case "error":
      return { type: "error", message: str(x, "message") };
    default:
      return undefined;
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (isRecord(e) && typeof e["message"] === "string") return e["message"];
  return String(e);
}
