import type { StreamCounters } from "../internal/conn/stream-counters.js";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { Hello, NodeIdentity } from "../gen/goms/v1/node_pb.js";
import { ClientConn, type CallObserver } from "../internal/conn/client-conn.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { Transport } from "../internal/transport/types.js";
import { backoffDelay, type BackoffOptions } from "../internal/util/backoff.js";
import type { PeerHealth } from "../internal/health/peer-health.js";

export interface PeerAddress {
  host: string;
  port: number;
  /** Expected node name; checked against the peer's HELLO when given. */
  name?: string;
}

export type PeerState = "connecting" | "ready" | "backoff" | "closed";

export interface PeerEvents {
  onReady(peer: Peer): void;
  onDown(peer: Peer, err: GomsError): void;
  /** The node's stream counters, handed to each connection. */
  readonly streamCounters: StreamCounters;
}

/**
 * One remote node: keeps a connection to it, reconnecting with backoff when it
 * drops, until close().
 */
export class Peer {
  readonly address: PeerAddress;
  state: PeerState = "connecting";
  conn: ClientConn | undefined;
  /** Identity from the peer's last HELLO. */
  identity: NodeIdentity | undefined;
  /** Connected at least once. */
  everReady = false;
  lastError: GomsError | undefined;
  private attempt = 0;
  private readonly closeWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    address: PeerAddress,
    private readonly transport: Transport,
    private readonly connOpts: ConnOptions,
    private readonly hello: Hello,
    private readonly backoff: BackoffOptions,
    private readonly events: PeerEvents,
    private readonly observer: CallObserver | undefined,
    /** Its health record (outlier ejection, breaker): kept across reconnections. */
    readonly health: PeerHealth,
  ) {
    this.address = address;
  }

  get key(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  get name(): string {
    return this.identity?.name ?? this.address.name ?? this.key;
  }

  start(): void {
    void this.dial();
  }

  private async dial(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "connecting";
    let stream;
    try {
      stream = await this.transport.dial(this.address.host, this.address.port, this.connOpts.handshakeTimeoutMs);
    } catch (err) {
      this.failed(GomsError.from(err, Code.Unavailable));
      return;
    }
    if ((this.state as PeerState) === "closed") {
      stream.destroy();
      return;
    }
    this.conn = new ClientConn(stream, this.connOpts, this.hello, {
      streamCounters: this.events.streamCounters,
      onReady: (c) => {
        if (this.conn !== c) return;
        const id = c.remoteNode;
        if (this.address.name !== undefined && id !== undefined && id.name !== this.address.name) {
          c.destroy(new GomsError(`expected node ${this.address.name} at ${this.key}, found ${id.name}`, Code.FailedPrecondition));
          return;
        }
        this.identity = id;
        this.state = "ready";
        this.everReady = true;
        this.attempt = 0;
        this.events.onReady(this);
      },
      onGoAway: (c) => {
        if (this.conn !== c) return;
        // The server is draining: route new calls elsewhere and reconnect in the background.
        this.conn = undefined;
        this.down(new GomsError("peer is going away", Code.Unavailable));
      },
      onClose: (c, err) => {
        if (this.conn !== c) return;
        this.conn = undefined;
        for (const wake of this.closeWaiters.splice(0)) wake();
        this.down(err);
      },
    });
    this.conn.observer = this.observer;
  }

  private down(err: GomsError): void {
    const wasReady = this.state === "ready";
    this.failed(err);
    if (wasReady) this.events.onDown(this, err);
  }

  private failed(err: GomsError): void {
    this.lastError = err;
    if (this.state === "closed") return;
    const wasConnecting = this.state === "connecting";
    this.state = "backoff";
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.timer = setTimeout(() => void this.dial(), delay);
    this.timer.unref();
    if (wasConnecting && !this.everReady) this.events.onDown(this, err);
  }

  /** After close(false): resolves once the connection is gone (its calls settled), or at `deadline` (epoch ms). */
  closed(deadline: number): Promise<void> {
    const c = this.conn;
    if (c === undefined || c.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops reconnecting. In-flight calls finish (or fail) on their own unless `force`. */
  close(force: boolean): void {
    this.state = "closed";
    if (this.timer) clearTimeout(this.timer);
    const c = this.conn;
    if (!c) return;
    if (force || c.inflight === 0) c.destroy(new GomsError("peer removed", Code.Unavailable));
    else c.draining = true; // takes no new calls; closes itself when the last one settles
  }
}
