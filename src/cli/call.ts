import { createJsonCaller } from "../json-call/index.js";
import type { GomsNode } from "../rpc/index.js";

export interface CallCommandOptions {
  json: boolean;
  timeoutMs: number;
  metadata: Record<string, string>;
}

export interface CallOutput {
  text: string;
  ret: number;
}

/** Which node serves the call: the descriptors come from it (pinned) or from the registry. */
export interface CallTarget {
  node: GomsNode;
  /** Pin the call to this node (--addr); undefined: load-balance (--registry). */
  pinned: string | undefined;
}

/**
 * `goms call`: a method by name with JSON, without compiled stubs, through
 * the shared JSON-call module (the same lookup and transcoding as the gateway
 * and the admin console).
 */
export async function callJson(t: CallTarget, name: string, input: string, o: CallCommandOptions): Promise<CallOutput> {
  const caller = createJsonCaller(t.node, { descriptorTimeoutMs: o.timeoutMs });
  const route = await caller.routeByName(name);
  const res = await caller.call(
    route,
    input.trim(),
    { timeoutMs: o.timeoutMs, metadata: o.metadata, ...(t.pinned === undefined ? {} : { node: t.pinned }) },
    o.json ? 0 : 2,
  );
  return { text: res.json, ret: res.ret };
}
