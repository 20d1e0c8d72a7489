import { createRegistry, registryFromUrl, type KvBackend, type Registry } from "../registry/index.js";
import { createNode, type GomsNode } from "../rpc/index.js";
import { Code, GomsError } from "../errors/index.js";
import { watchSchemes } from "../watch/index.js";

/** The registry backend for a --registry URL; the CLI is where the watch client is composed in. */
export function kvFromUrl(url: string): Promise<KvBackend> {
  return registryFromUrl(url, { schemes: watchSchemes });
}

/** Parses "host:port" (host defaults to 127.0.0.1). */
export function parseAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, "") : "127.0.0.1";
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid address "${addr}": expected host:port`);
  return { host, port };
}

export interface TargetOptions {
  addr?: string;
  token?: string;
}

export interface Connected {
  node: GomsNode;
  /** Name of the node at --addr (every node hosts goms.v1.NodeService, so calls to it must be pinned). */
  target: string;
}

/** A short-lived client node connected to the target node. */
export async function connect(o: TargetOptions): Promise<Connected> {
  if (!o.addr) throw new Error("--addr host:port is required");
  const node = createNode({
    identity: { name: `goms-cli-${process.pid}` },
    peers: { addresses: [parseAddr(o.addr)] },
    limits: { connection: { handshakeTimeoutMs: 3000 } },
    ...(o.token !== undefined ? { auth: { token: o.token } } : {}),
  });
  await node.start();
  const peer = node.peerList()[0];
  if (peer?.state !== "ready" || peer.identity === undefined) {
    const why = peer?.lastError?.rawMessage ?? "no answer";
    await node.close({ graceMs: 0 });
    throw new GomsError(`cannot reach a goms node at ${o.addr}: ${why}`, Code.Unavailable);
  }
  return { node, target: peer.identity.name };
}

/** A short-lived client node discovering nodes through the registry at `url`. */
export async function connectRegistry(url: string, token?: string): Promise<{ node: GomsNode; registry: Registry; close(): Promise<void> }> {
  const kv = await kvFromUrl(url);
  const registry = createRegistry({ kv });
  const node = createNode({
    identity: { name: `goms-cli-${process.pid}` },
    discovery: { registry },
    limits: { connection: { handshakeTimeoutMs: 3000 } },
    ...(token !== undefined ? { auth: { token } } : {}),
  });
  try {
    await node.start();
  } catch (err) {
    await kv.close();
    throw err;
  }
  return {
    node,
    registry,
    close: async () => {
      await node.close({ graceMs: 0 });
      await registry.close();
      await kv.close();
    },
  };
}
