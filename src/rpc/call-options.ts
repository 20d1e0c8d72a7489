import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { Metadata } from "../internal/conn/context.js";
import type { CallHedge } from "./hedge.js";
import type { CallOptions } from "./types.js";

export interface ResolvedCallOptions {
  /** Whole milliseconds; 0 = no deadline. */
  timeoutMs: number;
  metadata: Metadata | undefined;
  signal: AbortSignal | undefined;
  /** The call's own hedge (checked), or undefined for its method's default. */
  hedge: CallHedge | false | undefined;
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
      if (left <= 0) throw new GomsError("parent deadline already passed", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" });
      if (timeoutMs === 0 || left < timeoutMs) timeoutMs = left;
    }
    signal = signal === undefined ? parent.signal : AbortSignal.any([signal, parent.signal]);
    if (Object.keys(parent.metadata).length) metadata = { ...parent.metadata, ...metadata };
  }
  if (!(timeoutMs >= 0)) throw new GomsError(`invalid timeoutMs ${String(timeoutMs)}`, Code.InvalidArgument, { reason: "GOMS_ERR_INVALID_OPTION" });
  const hedge = o?.hedge;
  if (hedge !== undefined && hedge !== false && !(hedge.afterMs >= 0 && Number.isFinite(hedge.afterMs))) {
    throw new GomsError(`invalid hedge.afterMs ${String(hedge.afterMs)}`, Code.InvalidArgument, { reason: "GOMS_ERR_INVALID_OPTION" });
  }
  return { timeoutMs: Math.ceil(timeoutMs), metadata, signal, hedge };
}
