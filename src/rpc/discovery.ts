import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import type { PeerAddress } from "./peer.js";

/** A change in the set of registered nodes ("up" carries the registration). */
export interface NodeChange {
  readonly type: "up" | "down";
  readonly name: string;
  readonly registration?: NodeRegistration | undefined;
}

/** A live registration: close() deregisters; abandon() stops keeping it alive without deregistering (crash simulation). */
export interface RegistrationHandle {
  close(): Promise<void>;
  abandon?(): void;
}

/** What a node needs from a registry (goms/registry's createRegistry() provides it). */
export interface RegistryLike {
  register(identity: NodeIdentity, descriptors: FileDescriptorSet): Promise<RegistrationHandle>;
  watchNodes(): AsyncIterable<NodeChange> & { stop(): void };
  /** The nodes registered now; when present, start() is synced once this answered. */
  list?(): Promise<{ nodes: NodeRegistration[] }>;
}

export interface DiscoveryHost {
  readonly name: string;
  readonly region: number;
  addPeer(address: PeerAddress): void;
  removePeer(address: { host: string; port: number }): void;
  /** True when node `name` answers a ping on its live connection right now. */
  probe(name: string): Promise<boolean>;
}

/**
 * Keeps the node's peers in step with the registry: remembers every
 * registration, dials the nodes hosting services this node calls (or every
 * node with connectAll), and drops peers whose registration disappears.
 */
export class Discovery {
  /** Latest registration per node name. */
  readonly known = new Map<string, NodeRegistration>();
  private readonly wanted = new Set<string>();
  private readonly dialled = new Map<string, PeerAddress>();
  private watch: (AsyncIterable<NodeChange> & { stop(): void }) | undefined;
  private loop: Promise<void> | undefined;
  /** Resolves when the first batch of registrations (the initial list) has been seen. */
  private firstSync: (() => void) | undefined;
  readonly synced: Promise<void>;

  constructor(
    private readonly host: DiscoveryHost,
    private readonly registry: RegistryLike,
    private readonly connectAll: boolean,
  ) {
    this.synced = new Promise<void>((r) => (this.firstSync = r));
  }

  start(): void {
    const watch = this.registry.watchNodes();
    this.watch = watch;
    this.loop = (async () => {
      // Sync point: the registry's current list (the watch then re-announces it and follows changes).
      if (this.registry.list !== undefined) {
        try {
          const { nodes } = await this.registry.list();
          for (const r of nodes) if (r.node !== undefined) this.apply({ type: "up", name: r.node.name, registration: r });
        } catch {
          // The registry is unreachable for now: the watch below retries and catches up.
        }
      }
      this.markSynced();
      try {
        for await (const ch of watch) this.apply(ch);
      } catch {
        // The registry watch ended with an error; the registry reconnects on its own and a stopped
        // watch is how close() ends this loop. Peers already connected keep working.
      }
    })();
  }

  /** True once the registry's current list has been seen. */
  isSynced = false;

  private markSynced(): void {
    this.isSynced = true;
    this.firstSync?.();
    this.firstSync = undefined;
  }

  private apply(ch: NodeChange): void {
    if (ch.name === this.host.name) return;
    if (ch.type === "down") {
      this.known.delete(ch.name);
      if (!this.dialled.has(ch.name)) return;
      // The registry lost the node. If it still answers on its live connection (the registry
      // restarted, or the node is re-registering), keep routing to it; otherwise drop it now.
      // A crashed node has usually left routing already: its connection broke.
      const name = ch.name;
      void this.host.probe(name).then((alive) => {
        if (!alive && !this.known.has(name)) this.undial(name);
      });
      return;
    }
    const reg = ch.registration;
    if (reg?.node === undefined) return;
    this.known.set(ch.name, reg);
    const addr = this.addressOf(reg);
    const prev = this.dialled.get(ch.name);
    if (prev && (prev.host !== addr.host || prev.port !== addr.port)) this.undial(ch.name);
    if (this.connectAll || reg.node.services.some((s) => this.wanted.has(s))) this.dial(ch.name, addr);
  }

  private addressOf(r: NodeRegistration): PeerAddress {
    const n = r.node!;
    const host = n.region !== this.host.region && n.outerHost ? n.outerHost : n.host;
    return { host, port: n.port, name: n.name };
  }

  private dial(name: string, addr: PeerAddress): void {
    if (this.dialled.has(name)) return;
    this.dialled.set(name, addr);
    this.host.addPeer(addr);
  }

  private undial(name: string): void {
    const addr = this.dialled.get(name);
    if (!addr) return;
    this.dialled.delete(name);
    this.host.removePeer(addr);
  }

  /**
   * A call found no connected node for `service`: dial the registered nodes
   * that host it. Returns true when at least one new peer is being dialled.
   */
  want(service: string): boolean {
    this.wanted.add(service);
    let added = false;
    for (const [name, reg] of this.known) {
      if (!this.dialled.has(name) && reg.node?.services.includes(service)) {
        this.dial(name, this.addressOf(reg));
        added = true;
      }
    }
    return added;
  }

  /** A call pinned to node `name`: dial it if it is registered. */
  wantNode(name: string): boolean {
    const reg = this.known.get(name);
    if (reg === undefined || this.dialled.has(name)) return false;
    this.dial(name, this.addressOf(reg));
    return true;
  }

  /** Every service some registered node hosts. */
  services(): string[] {
    const out = new Set<string>();
    for (const r of this.known.values()) for (const s of r.node?.services ?? []) out.add(s);
    return [...out];
  }

  /** Registered nodes hosting `service` (connected or not). */
  nodesFor(service: string): NodeRegistration[] {
    return [...this.known.values()].filter((r) => r.node?.services.includes(service));
  }

  /** Stops watching without waiting for the loop to end. */
  stopSoon(): void {
    this.watch?.stop();
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await this.loop;
  }
}
