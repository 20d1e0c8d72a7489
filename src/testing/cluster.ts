import { createNode, type GomsNode, type NodeDiscoveryOptions, type NodeOptions } from "../rpc/index.js";
import { Code, GomsError } from "../errors/index.js";
import { MemoryNetwork } from "../internal/transport/memory.js";
import { createRegistry, type Registry } from "../registry/registry.js";
import { createWatchServer, type WatchServer } from "../watch/server.js";
import { createWatchClient, type WatchClient } from "../watch/client.js";

const REGISTRY_HOST = "registry";
const REGISTRY_PORT = 12345;

export interface ClusterOptions {
  /** Registration lease TTL, ms. Default 1000 (short, so failures show quickly in tests). */
  ttlMs?: number;
}

/**
 * A cluster member: the node option groups the harness does not own. Every
 * member listens (its host on the in-memory network is its name, its port a
 * free one), uses the cluster's transport and registers in its registry.
 */
export interface ClusterNodeOptions extends Pick<NodeOptions, "identity" | "peers" | "auth" | "calls" | "limits"> {
  /** Discovery tunables; the registry is the cluster's. */
  discovery?: Omit<NodeDiscoveryOptions, "registry">;
  /** Register services (node.service(...)) before the node starts. */
  setup?: (node: GomsNode) => void;
}

interface Member {
  node: GomsNode;
  kv: WatchClient;
  registry: Registry;
}

/**
 * N goms nodes and a registry (a real watch server) in one process, connected
 * by an in-memory network with fault injection. The same code paths as
 * production (framing, registry protocol, discovery, retries), without sockets.
 *
 *   const cluster = await createCluster().start();
 *   await cluster.add({ identity: { name: "db0" }, setup: (n) => n.service(DB, impl) });
 *   const q = await cluster.add({ identity: { name: "q" } });
 *   await q.client(DB).query({ key: "a" });
 *   await cluster.kill("db0");          // crash: no drain, lease expires
 *   cluster.partition("q", "db1");      // drop traffic both ways
 *   await cluster.restartRegistry();    // registry loses everything; nodes re-register
 *   await cluster.close();
 */
export class Cluster {
  readonly network = new MemoryNetwork();
  readonly ttlMs: number;
  private watch: WatchServer | undefined;
  private readonly members = new Map<string, Member>();

  constructor(opts: ClusterOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 1000;
  }

  /** The watch server acting as registry (replaced by restartRegistry()). */
  get registryServer(): WatchServer {
    if (!this.watch) throw new GomsError("the cluster is not started", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    return this.watch;
  }

  /** Starts the registry; then add() nodes. */
  async start(): Promise<this> {
    if (this.watch) throw new GomsError("the cluster was already started", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    await this.startRegistry();
    return this;
  }

  private async startRegistry(): Promise<void> {
    this.watch = await createWatchServer({
      listen: { host: REGISTRY_HOST, port: REGISTRY_PORT },
      transport: this.network.transport("registry"),
      store: { leaseCheckIntervalMs: 50 },
    }).start();
  }

  /** Starts a node registered in the cluster's registry. */
  async add(opts: ClusterNodeOptions): Promise<GomsNode> {
    if (!this.watch) throw new GomsError("start() the cluster before adding nodes", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    const { setup, identity, peers, limits, discovery, ...rest } = opts;
    const name = identity.name;
    const transport = this.network.transport(name);
    const kv = createWatchClient({ url: `watch://${REGISTRY_HOST}:${REGISTRY_PORT}`, transport, identity: { name: `${name}-registry-client` } });
    const registry = createRegistry({ kv, ttlMs: this.ttlMs });
    // Short heartbeats and reconnect delays, so that failures show quickly in tests.
    const node = createNode({
      ...rest,
      identity,
      listen: { host: name, port: 0 },
      peers: { ...peers, reconnect: { initialMs: 20, maxMs: 500, ...peers?.reconnect } },
      limits: { ...limits, connection: { heartbeatMs: 200, heartbeatTimeoutMs: 1000, ...limits?.connection } },
      discovery: { ...discovery, registry },
      transport,
    });
    setup?.(node);
    this.members.set(name, { node, kv, registry });
    await node.start();
    return node;
  }

  node(name: string): GomsNode {
    const m = this.members.get(name);
    if (!m) throw new GomsError(`no node ${name} in the cluster`, Code.NotFound);
    return m.node;
  }

  /** Crashes a node: connections drop, nothing drains, its registration expires with the lease. */
  async kill(name: string): Promise<void> {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    await m.node.kill();
    this.network.cut(name, "registry");
    await m.kv.close().catch(() => undefined);
  }

  /** Stops a node gracefully (deregisters, drains its calls within `graceMs`, default 500). */
  async stop(name: string, options: { graceMs?: number } = {}): Promise<void> {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    await m.node.close({ graceMs: options.graceMs ?? 500 });
    await m.registry.close();
    await m.kv.close();
  }

  /** Drops all traffic between two nodes (or a node and "registry"), both ways, until heal(). */
  partition(a: string, b: string): void {
    this.network.setLinkFaults(a, b, { blackhole: true });
  }

  /** Adds latency to the link between two nodes. */
  delay(a: string, b: string, ms: number): void {
    this.network.setLinkFaults(a, b, { delayMs: ms });
  }

  /** Closes live connections between two nodes (they reconnect). */
  cut(a: string, b: string): void {
    this.network.cut(a, b);
  }

  heal(a: string, b: string): void {
    this.network.setLinkFaults(a, b, undefined);
  }

  /**
   * Restarts the registry with an empty in-memory store: every registration
   * and lease is gone, and each node must re-register by itself.
   */
  async restartRegistry(downMs = 0): Promise<void> {
    await this.watch?.close();
    for (const name of this.members.keys()) this.network.cut(name, "registry");
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startRegistry();
  }

  /** Stops every node (each draining within `graceMs`, default 500), then the registry. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    for (const name of [...this.members.keys()]) await this.stop(name, options).catch(() => undefined);
    await this.watch?.close(options);
  }
}

/** Creates a cluster; start() starts its registry. */
export function createCluster(opts: ClusterOptions = {}): Cluster {
  return new Cluster(opts);
}
