import type { StreamCounters } from "../internal/conn/stream-counters.js";
import { timingSafeEqual } from "node:crypto";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { Hello, NodeIdentity } from "../gen/goms/v1/node_pb.js";
import { makeHello } from "../internal/conn/options.js";
import type { Admission } from "../internal/admission/admission.js";
import type { Dispatcher } from "../internal/conn/dispatcher.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import { ServerConn } from "../internal/conn/server-conn.js";
import type { Listener, Transport } from "../internal/transport/types.js";
import { LocalEndpoint } from "./local-endpoint.js";
import type { ServiceTable } from "./services.js";

export interface NodeServerOptions {
  readonly name: string;
  readonly table: ServiceTable;
  readonly transport: Transport;
  readonly connOpts: ConnOptions;
  /** Concurrent calls per connection, and for in-process calls. */
  readonly maxConcurrentCalls: number;
  /** Connections still in preface/HELLO at once; past it new connections are closed at once. */
  readonly maxPendingHandshakes: number;
  /** Node-wide admission of served calls; undefined admits every call. */
  readonly admission: Admission | undefined;
  /** Required from callers' HELLO when set. */
  readonly token: string | undefined;
  /** Sent in this node's HELLO. */
  readonly peerToken: string | undefined;
  /** This node's identity as of now (the bound port changes it). */
  identity(): NodeIdentity;
  /** True while the node takes new calls. */
  accepting(): boolean;
  /** Every served call ends here (diagnostics). */
  served(call: ServerCall, err: GomsError | undefined, startedAt: number): void;
  /** The node's stream counters (node.stats().streams). */
  readonly streamCounters: StreamCounters;
}

/**
 * The serving part of a node: the listener, its connections and the in-process
 * endpoint, all admitting calls through the same Dispatcher, and the drain
 * that lets in-flight calls finish when the node closes.
 */
export class NodeServer {
  readonly conns = new Set<ServerConn>();
  readonly local: LocalEndpoint;
  readonly dispatcher: Dispatcher;
  private listener: Listener | undefined;
  private helloCache: Hello | undefined;
  private closing = false;
  /**
   * Connections whose HELLO was not accepted yet. Each may hold one frame of at
   * most HANDSHAKE_FRAME_LIMIT bytes, so this bounds what unauthenticated peers cost.
   */
  /**
   * Connections still in preface/HELLO, oldest first. Past the bound the oldest
   * is closed to make room: an attacker who parks idle sockets then has to keep
   * opening them faster than an honest client completes its handshake, instead
   * of holding every slot with a handful of sockets per handshake timeout.
   */
  private readonly handshaking = new Set<ServerConn>();
  /** Wakes close() when the last connection or in-process call is gone. */
  private onIdle: (() => void) | undefined;

  constructor(private readonly o: NodeServerOptions) {
    const accepting = o.accepting;
    let unaryCalls = 0;
    this.dispatcher = {
      maxConcurrentCalls: o.maxConcurrentCalls,
      admission: o.admission,
      lookup: (path) => o.table.lookup(path),
      missing: (path) => o.table.missing(path, o.name),
      hello: () => this.hello(),
      admit: (hello) => this.admit(hello),
      finished: (call, err, startedAt) => {
        if (call.stream === undefined) unaryCalls++;
        o.served(call, err, startedAt);
      },
      get accepting() {
        return accepting();
      },
      get unaryCalls() {
        return unaryCalls;
      },
      streamCounters: o.streamCounters,
    };
    this.local = new LocalEndpoint(this.dispatcher, () => this.checkIdle());
  }

  /** The bound port, or 0 when not listening. */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** Calls being served: on every connection and in-process. */
  get inflight(): number {
    let n = this.local.inflight;
    for (const c of this.conns) n += c.inflight;
    return n;
  }

  /** Forget the cached HELLO (the identity changed: port bound, service added). */
  identityChanged(): void {
    this.helloCache = undefined;
  }

  hello(): Hello {
    return (this.helloCache ??= makeHello(this.o.identity(), this.o.connOpts, this.o.maxConcurrentCalls, this.o.peerToken ?? this.o.token));
  }

  private admit(hello: Hello): GomsError | undefined {
    const want = this.o.token;
    if (want === undefined) return undefined;
    const a = Buffer.from(hello.token, "utf8");
    const b = Buffer.from(want, "utf8");
    if (a.length !== b.length || !timingSafeEqual(a, b)) return new GomsError("invalid or missing token", Code.Unauthenticated, { reason: "GOMS_ERR_UNAUTHENTICATED" });
    return undefined;
  }

  async listen(host: string, port: number): Promise<void> {
    this.listener = await this.o.transport.listen(host, port, (stream, info) => {
      if (this.closing) {
        stream.destroy();
        return;
      }
      if (this.handshaking.size >= this.o.maxPendingHandshakes) {
        const oldest = this.handshaking.values().next().value!;
        this.handshaking.delete(oldest);
        oldest.destroy(new GomsError("handshake not completed: slot taken by a newer connection", Code.Unavailable));
      }
      const conn: ServerConn = new ServerConn(stream, this.o.connOpts, this.dispatcher, info, {
        onHello: (c) => void this.handshaking.delete(c),
        onClose: (c) => {
          this.handshaking.delete(c);
          this.conns.delete(c);
          this.checkIdle();
        },
        onDrained: (c) => {
          if (this.closing) c.destroy(new GomsError("node closed", Code.Unavailable), true);
        },
      });
      this.handshaking.add(conn);
      this.conns.add(conn);
    });
    this.helloCache = undefined;
  }

  /**
   * Stops taking calls: GOAWAY on every connection, in-process calls refused,
   * and waits until every call in flight has finished or `deadline` (epoch ms)
   * passes; then cuts what is left. Resolves once the listener is closed.
   */
  async drain(deadline: number): Promise<void> {
    this.closing = true;
    // net.Server#close resolves only once every connection is gone: start it, await it last.
    const listenerClosed = this.listener?.close();
    this.local.scope.drain();
    for (const c of [...this.conns]) c.drain("node is shutting down");
    if (!this.idle()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onIdle = undefined;
    }
    for (const c of [...this.conns]) c.destroy(new GomsError("node closed", Code.Unavailable), true);
    await listenerClosed;
  }

  /** Drops every connection at once (crash simulation). */
  async kill(): Promise<void> {
    this.closing = true;
    const listenerClosed = this.listener?.close();
    for (const c of [...this.conns]) c.destroy(new GomsError("node killed", Code.Unavailable));
    await listenerClosed;
  }

  private idle(): boolean {
    return this.local.inflight === 0 && this.conns.size === 0;
  }

  private checkIdle(): void {
    if (this.onIdle !== undefined && this.idle()) this.onIdle();
  }
}
