// Shared tooling for the bad-input tests: a server node under attack, hand-written
// raw TCP peers that speak (or mangle) the goms wire protocol, and health probes.
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createNode, NodeService, type GomsNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { withNodeOptions, type NodeOptionsPatch } from "../helpers.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import type { ConnOptions } from "../../src/internal/conn/options.js";
export * from "./raw-peer.js";
import { HOST } from "./raw-peer.js";


export const ADD = "goms.examples.v1.AddServer/Add";
export const QUERY = "goms.examples.v1.DB/Query";

/** Connection options that keep every timeout-driven test well under a second. */
export const fastConn = { heartbeatMs: 100, heartbeatTimeoutMs: 500, handshakeTimeoutMs: 400 } satisfies Partial<ConnOptions>;

// ---- the server under attack ------------------------------------------------------

export interface Target {
  node: GomsNode;
  port: number;
  /** Reasons the hanging handler's ctx.signal fired with. */
  aborts: GomsError[];
  /** Calls currently parked in the hanging handler. */
  hanging: number;
  /** DB.Query calls served. */
  queries: number;
  close(): Promise<void>;
}

const bigValues = new Map<number, string>();

/**
 * A node hosting:
 *  - AddServer.Add: a + b; with a = 255 it never answers (and records ctx.signal aborts);
 *  - DB.Query: answers a value of `Number(key)` bytes (large responses on demand);
 *  - DB.Update is left unimplemented.
 */
export async function startTarget(extra: NodeOptionsPatch = {}): Promise<Target> {
  const node = createNode(withNodeOptions({ identity: { name: "target" }, listen: { port: 0 }, limits: { shutdownGraceMs: 200 } }, extra));
  const t: Target = {
    node,
    port: 0,
    aborts: [],
    hanging: 0,
    queries: 0,
    close: () => node.close({ graceMs: 100 }),
  };
  node.service(AddServer, {
    add(req, ctx) {
      if (req.a !== 255) return { sum: req.a + req.b };
      t.hanging++;
      return new Promise<never>(() => {
        ctx.signal.addEventListener("abort", () => {
          t.hanging--;
          t.aborts.push(GomsError.from(ctx.signal.reason));
        });
      });
    },
  });
  node.service(DB, {
    query(req) {
      t.queries++;
      const n = Number(req.key) || 0;
      let v = bigValues.get(n);
      if (v === undefined) bigValues.set(n, (v = "x".repeat(n)));
      return { value: v };
    },
  });
  await node.start();
  t.port = node.port;
  return t;
}

/** A client node connected to `port`; resolves once the peer is ready. */
export async function startClient(port: number, name = "good", extra: NodeOptionsPatch = {}): Promise<GomsNode> {
  const node = createNode(withNodeOptions({ identity: { name }, peers: { addresses: [{ host: HOST, port }] }, calls: { defaultTimeoutMs: 3000 } }, extra));
  await node.start();
  return node;
}

/** The server is healthy: a fresh client completes a normal typed call, and NodeService.Info answers. */
export async function assertHealthy(t: Target): Promise<void> {
  const c = await startClient(t.port, `probe-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const res = await c.client(AddServer).add({ a: 20, b: 22 }, { timeoutMs: 2000 });
    assert.equal(res.sum, 42);
  } finally {
    await c.close({ graceMs: 0 });
  }
}

/** Server-side counters from the built-in introspection service (called in-process). */
export async function serverStats(t: Target): Promise<{ connections: number; callsInFlight: number }> {
  const info = await t.node.client(NodeService).info({});
  return { connections: info.connections, callsInFlight: info.callsInFlight };
}

/** Polls `cond` until true or fails after timeoutMs. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function isCodeError(code: Code, message?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(GomsError.is(e), `expected a GomsError, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  };
}

let gcFn: (() => void) | undefined;
/** Full GC (so memory deltas measure what is retained, not garbage). */
export function gc(): void {
  if (gcFn === undefined) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
