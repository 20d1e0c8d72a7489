/**
 * Loads goms RPC from src/rpc/index.ts at run time. Until that module exists the
 * target is skipped with "goms rpc not available yet". The types below are the
 * narrow slice of the API this benchmark uses (createNode, service, client).
 */
import type { BenchmarkMessage } from "../../../src/gen/goms/bench/v1/bench_pb.js";
import { errorMessage, isRecord } from "../../lib/protocol.js";
import { SkipTarget } from "../../lib/target.js";

export interface GomsNodeOptions {
  name: string;
  host?: string;
  port?: number;
  peers?: Array<{ host: string; port: number }>;
}

export interface BenchImpl {
  echo(req: BenchmarkMessage): BenchmarkMessage | Promise<BenchmarkMessage>;
}

export interface GomsNode {
  service(desc: unknown, impl: BenchImpl): unknown;
  client(desc: unknown): unknown;
  start(): Promise<unknown>;
  close(): Promise<unknown>;
}

export interface GomsRpc {
  createNode(opts: GomsNodeOptions): GomsNode;
}

export interface BenchClient {
  echo(req: BenchmarkMessage): Promise<BenchmarkMessage>;
}

function isGomsRpc(x: unknown): x is GomsRpc {
  return isRecord(x) && typeof x["createNode"] === "function";
}

export function isBenchClient(x: unknown): x is BenchClient {
  return isRecord(x) && typeof x["echo"] === "function";
}

const RPC_URL = new URL("../../../src/rpc/index.js", import.meta.url);

export async function loadGomsRpc(): Promise<GomsRpc> {
  let mod: unknown;
  try {
    mod = await import(RPC_URL.href);
  } catch (e) {
    const code = isRecord(e) ? e["code"] : undefined;
    const msg = errorMessage(e);
    if (code === "ERR_MODULE_NOT_FOUND" && msg.includes("src/rpc/index")) {
      throw new SkipTarget("goms rpc not available yet (src/rpc/index.ts does not exist)");
    }
    throw new SkipTarget(`goms rpc not available yet (importing src/rpc/index.ts failed: ${msg.split("\n")[0] ?? msg})`);
  }
  if (!isGomsRpc(mod)) throw new SkipTarget("goms rpc not available yet (src/rpc/index.ts exports no createNode)");
  return mod;
}
