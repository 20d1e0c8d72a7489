// Pushing stats to a real admin node from throwaway nodes, and reading the
// admin console's view of them; shared by the push-auth and store-limit tests.
import { create } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { GomsError } from "../../src/errors/index.js";
import { MonitorService, NodeStatsSchema, type NodeStats } from "../../src/gen/goms/v1/monitor_pb.js";
import { createNode, type GomsNode, type NodeOptions } from "../../src/rpc/index.js";
import { afterEach } from "node:test";
import { NodeSet, until } from "../helpers.js";

export interface PushAs {
  /** HELLO name of the pushing node. */
  name: string;
  /** Admin node address. */
  port: number;
  token?: string;
  /** Extra node options (listen, discovery...). */
  node?: Partial<NodeOptions>;
  /** The stats to push, from the pushing node (default: a snapshot naming the node itself). */
  stats?: (node: GomsNode) => NodeStats;
}

/** Starts a node, pushes one NodeStats to the admin node, closes: undefined when accepted, else the refusal. */
export async function pushAs(o: PushAs): Promise<GomsError | undefined> {
  const node = createNode({
    identity: { name: o.name },
    peers: { addresses: [{ host: "127.0.0.1", port: o.port }] },
    ...(o.token !== undefined ? { auth: { peerToken: o.token } } : {}),
    ...o.node,
  });
  await node.start();
  try {
    // A refused HELLO never makes the peer ready: its error says why.
    await until(() => node.peerList().some((p) => p.state === "ready" || p.lastError !== undefined), 5000, "admin answers the HELLO");
    const refused = node.peerList().find((p) => p.state !== "ready")?.lastError;
    if (refused !== undefined) return refused;
    const stats = o.stats?.(node) ?? create(NodeStatsSchema, { node: node.identity(), intervalMs: 5000 });
    await node.client(MonitorService).push({ stats }, { node: "admin", timeoutMs: 5000 });
    return undefined;
  } catch (e) {
    return GomsError.from(e);
  } finally {
    await node.close({ graceMs: 0 });
  }
}

/** VmRSS of a process, bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

export interface ConsoleNode {
  name: string;
  address: string;
  monitored: boolean;
}

/** Logs in to an admin console and returns a reader of GET /api/nodes. */
export async function consoleNodes(base: string, user: string, password: string): Promise<() => Promise<ConsoleNode[]>> {
  const res = await fetch(`${base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user, password }) });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  return async () => ((await (await fetch(`${base}/api/nodes`, { headers: { cookie } })).json()) as { nodes: ConsoleNode[] }).nodes;
}

/** What a test file started, closed after each test: nodes, and anything tracked (pushers, stores, ...) before them. */
export function afterEachCleanup(): { nodes: NodeSet; cleanups: Array<() => unknown>; track<T extends { close(): unknown }>(x: T): T } {
  const nodes = new NodeSet();
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await nodes.closeAll();
  });
  return {
    nodes,
    cleanups,
    track(x) {
      cleanups.push(() => x.close());
      return x;
    },
  };
}
