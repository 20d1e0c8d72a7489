import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { Metadata } from "./context.js";
import type { CallOptions } from "./types.js";

export interface ResolvedCallOptions {
  /** Whole milliseconds; 0 = no deadline. */
  timeoutMs: number;
  metadata: Metadata | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Applies defaults and the parent context: the deadline is the earlier of the
 * call's and the parent's, signals combine, parent metadata is inherited.
 */
export function resolveCallOptions(o: CallOptions | undefined, defaultTimeoutMs: number): ResolvedCallOptions {
  let timeoutMs = o?.timeoutMs ?? defaultTimeoutMs;
  let signal = o?.signal;
  let metadata = o?.metadata;
  const parent = o?.parent;
  if (parent !== undefined) {
    if (parent.deadline !== undefined) {
      const left = parent.deadline - Date.now();
      if (left <= 0) throw new GomsError("parent deadline already passed", Code.DeadlineExceeded);
      if (timeoutMs === 0 || left < timeoutMs) timeoutMs = left;
    }
    signal = signal === undefined ? parent.signal : AbortSignal.any([signal, parent.signal]);
    if (Object.keys(parent.metadata).length) metadata = { ...parent.metadata, ...metadata };
  }
  if (!(timeoutMs >= 0)) throw new GomsError(`invalid timeoutMs ${String(timeoutMs)}`, Code.InvalidArgument);
  return { timeoutMs: Math.ceil(timeoutMs), metadata, signal };
}

/**
 * Turns "DB.Query" / "pkg.DB.Query" / "pkg.DB/Query" into a wire path
 * "pkg.DB/Query". Short service names are matched against the known services.
 */
export function resolveMethodPath(method: string, knows: (service: string) => boolean, known: () => string[]): string {
  let service: string;
  let name: string;
  const slash = method.indexOf("/");
  if (slash >= 0) {
    service = method.slice(0, slash);
    name = method.slice(slash + 1);
  } else {
    const dot = method.lastIndexOf(".");
    if (dot <= 0) throw new GomsError(`method name "${method}" must look like Service.Method`, Code.InvalidArgument);
    service = method.slice(0, dot);
    name = method.slice(dot + 1);
  }
  if (!service.includes(".") || !knows(service)) {
    const match = known().filter((s) => s === service || s.endsWith(`.${service}`));
    if (match.length > 1) throw new GomsError(`service name ${service} is ambiguous: ${match.join(", ")}`, Code.InvalidArgument);
    if (match.length === 1) service = match[0]!;
  }
  return `${service}/${name}`;
}
