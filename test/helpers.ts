import { createNode, type GomsNode, type NodeOptions } from "../src/rpc/index.js";

/** Starts nodes and closes them all at the end of a test (after what the test deferred, in reverse order). */
export class NodeSet {
  private readonly nodes: GomsNode[] = [];
  private readonly deferred: (() => unknown)[] = [];
  async start(opts: NodeOptions, setup?: (n: GomsNode) => void): Promise<GomsNode> {
    const n = createNode(opts);
    setup?.(n);
    this.nodes.push(n);
    await n.start();
    return n;
  }
  /** Runs `close` in closeAll(), before the nodes close: for what a test started on top of them (monitoring, servers). */
  defer(close: () => unknown): void {
    this.deferred.push(close);
  }
  async closeAll(): Promise<void> {
    for (const c of this.deferred.splice(0).reverse()) await c();
    await Promise.all(this.nodes.splice(0).map((n) => n.close({ graceMs: 500 })));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns truthy or `ms` passes. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Overrides for a node's options: any group, each given in part. */
export type NodeOptionsPatch = { [K in keyof NodeOptions]?: K extends "transport" ? NodeOptions[K] : Partial<NonNullable<NodeOptions[K]>> };

/** `base` with `patch` applied group by group (a patched group keeps the base's other fields). */
export function withNodeOptions(base: NodeOptions, patch: NodeOptionsPatch = {}): NodeOptions {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] = k !== "transport" && typeof b === "object" && b !== null ? { ...b, ...(v as object) } : v;
  }
  return out as unknown as NodeOptions;
}
