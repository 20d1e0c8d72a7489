import type { StreamCounters } from "../internal/conn/stream-counters.js";
import type { GomsError } from "../errors/goms-error.js";
import type { Hello, NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { CallObserver } from "../internal/conn/client-conn.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { Transport } from "../internal/transport/types.js";
import type { BackoffOptions } from "../internal/util/backoff.js";
import { channels, type PeerEvent } from "./diagnostics.js";
import { Peer, type PeerAddress } from "./peer.js";
import type { PeerTable } from "./peer-table.js";

export interface PeerSetOptions {
  readonly node: string;
  readonly table: PeerTable;
  readonly transport: Transport;
  readonly connOpts: ConnOptions;
  readonly backoff: BackoffOptions;
  readonly observer: CallObserver;
  /** The node's stream counters (node.stats().streams). */
  readonly streamCounters: StreamCounters;
  hello(): Hello;
  /** True once the node started: new peers dial at once. */
  started(): boolean;
  onConnect(identity: NodeIdentity): void;
  onDisconnect(identity: NodeIdentity, err: GomsError): void;
}

/** A peer as read-only queries show it. */
export interface PeerView {
  name: string;
  address: string;
  state: Peer["state"];
  identity: NodeIdentity | undefined;
  lastError: GomsError | undefined;
}

/**
 * The peers a node dials: creating, reconnecting and closing them, and telling
 * the routing table (PeerTable), the service hooks and goms:rpc:peer when one
 * comes or goes.
 */
export class PeerSet {
  constructor(private readonly o: PeerSetOptions) {}

  /** Connects to another node (once per address). Its services become routable once it says HELLO. */
  add(address: PeerAddress): Peer {
    const existing = this.o.table.peers.get(`${address.host}:${address.port}`);
    if (existing) return existing;
    const o = this.o;
    const peer: Peer = new Peer(
      address,
      o.transport,
      o.connOpts,
      o.hello(),
      o.backoff,
      {
        streamCounters: o.streamCounters,
        onReady: (p) => {
          o.table.rebuild();
          this.event(p, "connected");
          o.onConnect(p.identity!);
        },
        onDown: (p, err) => {
          o.table.rebuild();
          this.event(p, "disconnected", err.rawMessage);
          if (p.identity) o.onDisconnect(p.identity, err);
        },
      },
      o.observer,
      o.table.track((): string => peer.name),
    );
    o.table.add(peer);
    if (o.started()) peer.start();
    return peer;
  }

  /** Disconnects from a peer (after its in-flight calls). */
  remove(address: { host: string; port: number }): void {
    this.o.table.remove(`${address.host}:${address.port}`)?.close(false);
  }

  /** Resolves once the peer answered or failed its first attempt. */
  firstContact(p: Peer): Promise<void> {
    if (p.state !== "connecting") return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (p.state !== "connecting") resolve();
        else void this.o.table.waitChange(Date.now() + this.o.connOpts.handshakeTimeoutMs * 2, undefined).then(check, () => resolve());
      };
      check();
    });
  }

  list(): PeerView[] {
    return [...this.o.table.peers.values()].map((p) => ({ name: p.name, address: p.key, state: p.state, identity: p.identity, lastError: p.lastError }));
  }

  /** True once some peer is ready; false when `timeoutMs` passed first. */
  async waitForReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const p of this.o.table.peers.values()) if (p.state === "ready") return true;
      if (Date.now() >= deadline) return false;
      await this.o.table.waitChange(deadline, signal).catch(() => undefined);
    }
  }

  /** Stops dialling and lets outgoing calls finish until `deadline` (epoch ms), then cuts what is left. */
  async close(deadline: number): Promise<void> {
    const peers = [...this.o.table.peers.values()];
    for (const p of peers) p.close(false);
    await Promise.all(peers.map((p) => p.closed(deadline)));
    this.kill();
  }

  /** Drops every peer connection at once. */
  kill(): void {
    this.o.table.outliers.stop();
    for (const p of this.o.table.peers.values()) p.close(true);
    this.o.table.rebuild();
  }

  private event(p: Peer, state: PeerEvent["state"], reason?: string): void {
    if (!channels.peer.hasSubscribers) return;
    const ev: PeerEvent = { node: this.o.node, peer: p.name, address: p.key, state, ...(reason !== undefined ? { reason } : {}) };
    channels.peer.publish(ev);
  }
}
