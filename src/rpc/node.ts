import { AsyncLocalStorage } from "node:async_hooks";
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { NodeIdentitySchema, NodeService, type NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import type { HandlerContext } from "../internal/conn/context.js";
import type { CallObserver } from "../internal/conn/client-conn.js";
import { defaultConnOptions, type ConnOptions } from "../internal/conn/options.js";
import { newStreamCounters } from "../internal/conn/stream-counters.js";
import { admissionFromLimits, type Admission } from "../internal/admission/admission.js";
import { tcpTransport } from "../internal/transport/tcp.js";
import type { Transport } from "../internal/transport/types.js";
import { VERSION } from "../version.js";
import { defaultBackoff } from "../internal/util/backoff.js";
import { introspection } from "./introspection.js";
import { NodeHealth } from "./health.js";
import type { CloseOptions, NodeCounters, NodeOptions } from "./node-options.js";
export type { CloseOptions, NodeCounters } from "./node-options.js";
import type { Peer, PeerAddress } from "./peer.js";
import { PeerSet, type PeerView } from "./peer-set.js";
import { PeerTable } from "./peer-table.js";
import { defaultRetryBudget, RetryBudget } from "./retry-budget.js";
import { routedMethod, type RoutedMethod } from "./client-method.js";
import { ServiceTable } from "./services.js";
import { timingPolicy } from "./timing-sampler.js";
import { CallReporter, type CallRecorder } from "./call-reporting.js";
import { CallRouter } from "./call-router.js";
import { Caller } from "./caller.js";
import { Clients } from "./clients.js";
import { Membership } from "./membership.js";
import { NodeServer } from "./node-server.js";
import type { BroadcastClient, CallOptions, CallResult, Client, DetailedClient, OneWayClient, ServiceImpl, ServiceOptions } from "./types.js";

/** A goms node: hosts services, calls other nodes. Create with createNode(). */
export class GomsNode {
  readonly name: string;
  private readonly table: ServiceTable;
  private readonly peers: PeerTable;
  private readonly peerSet: PeerSet;
  private readonly server: NodeServer;
  private readonly caller: Caller;
  private readonly clients: Clients;
  private readonly router: CallRouter;
  private readonly opts: NodeOptions;
  private readonly connOpts: ConnOptions;
  private readonly transport: Transport;
  private state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  private readonly defaultTimeoutMs: number;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | undefined;
  private readonly reporter: CallReporter;
  /** Connections report each call here; publishing happens only with subscribers. */
  private readonly callObserver: CallObserver = {
    weight: (m) => this.reporter.clientWeight(m as RoutedMethod),
    settled: (m, code, ret, startedAt, weight) => this.reporter.client(m as RoutedMethod, code, ret, startedAt, weight),
  };
  private membership: Membership | undefined;
  private retries = 0;
  /** What this node's streams did: shared by its connections and in-process streams, read by stats(). */
  private readonly streamCounters = newStreamCounters();
  private readonly admission: Admission;
  /** Serving, not serving or draining, per service: what Health and HTTP probes report; setServing() marks a service down. */
  readonly health: NodeHealth;

  constructor(opts: NodeOptions) {
    if (!opts.identity?.name) throw new GomsError("node name (identity.name) is required", Code.InvalidArgument, { reason: "GOMS_ERR_INVALID_OPTION" });
    this.opts = opts;
    this.name = opts.identity.name;
    const { listen, peers = {}, auth = {}, calls = {}, limits = {} } = opts;
    this.connOpts = { ...defaultConnOptions, ...limits.connection };
    this.transport =
      opts.transport ??
      tcpTransport({
        ...(listen?.tls ? { tls: listen.tls } : {}),
        ...(peers.tls ? { peerTls: peers.tls } : {}),
        ...(listen?.maxConnections !== undefined ? { maxConnections: listen.maxConnections } : {}),
      });
    this.defaultTimeoutMs = calls.defaultTimeoutMs ?? 30_000;
    this.peers = new PeerTable({
      balancer: calls.balancer ?? "round-robin",
      region: calls.preferSameRegion === false ? undefined : (opts.identity.region ?? 0),
      outliers: calls.outlierDetection,
    });
    this.peerSet = new PeerSet({
      node: this.name,
      table: this.peers,
      transport: this.transport,
      connOpts: this.connOpts,
      backoff: { ...defaultBackoff, ...peers.reconnect },
      observer: this.callObserver,
      streamCounters: this.streamCounters,
      hello: () => this.server.hello(),
      started: () => this.state === "running" || this.state === "starting",
      onConnect: (id) => {
        for (const s of this.table.services.values()) s.hooks.onPeerConnect?.(id);
      },
      onDisconnect: (id, err) => {
        for (const s of this.table.services.values()) s.hooks.onPeerDisconnect?.(id, err);
      },
    });
    const als = calls.inheritContext === false ? undefined : new AsyncLocalStorage<HandlerContext>();
    this.table = new ServiceTable(calls.serverInterceptors ?? [], als);
    this.health = new NodeHealth(() => this.state, this.table);
    this.reporter = new CallReporter(this.name, timingPolicy(calls.callTiming));
    this.admission = admissionFromLimits(limits);
    this.server = new NodeServer({
      name: this.name,
      table: this.table,
      transport: this.transport,
      connOpts: this.connOpts,
      maxConcurrentCalls: limits.maxConcurrentCalls ?? 10_000,
      maxPendingHandshakes: limits.maxPendingHandshakes ?? 64,
      admission: this.admission,
      token: auth.token,
      peerToken: auth.peerToken,
      identity: () => this.identity(),
      accepting: () => this.state === "running" || this.state === "starting",
      served: (call, err, startedAt) => this.reporter.server(call, err, startedAt),
      streamCounters: this.streamCounters,
    });
    this.router = new CallRouter({
      name: this.name,
      table: this.table,
      local: this.server.local,
      peers: this.peers,
      budget: new RetryBudget({ ...defaultRetryBudget, ...calls.retryBudget }),
      hedge: calls.hedge,
      connOpts: this.connOpts,
      discovery: () => this.membership?.discovery,
      onRetry: () => void this.retries++,
      reporter: this.reporter,
    });
    this.caller = new Caller({
      router: this.router,
      interceptors: calls.interceptors ?? [],
      defaultTimeoutMs: this.defaultTimeoutMs,
      als,
      notRunning: () => (this.state === "running" ? undefined : this.notRunning()),
    });
    this.clients = new Clients(this.caller);
    this.table.add(
      NodeService,
      introspection({
        identity: () => this.identity(),
        table: this.table,
        startedAt: this.startedAt,
        connections: () => this.server.conns.size,
        // Besides the Info call asking (it is served, so counted, like any other).
        callsInFlight: () => this.server.inflight - 1,
        health: this.health,
      }) as Record<string, unknown>,
      {},
    );
  }

  /** Counters for monitoring; O(connections + peers), no allocation beyond the result. */
  stats(): NodeCounters {
    let peersReady = 0;
    let outgoingCalls = 0;
    for (const p of this.peers.peers.values()) {
      if (p.state === "ready") peersReady++;
      outgoingCalls += p.conn?.inflight ?? 0;
    }
    return {
      serverConnections: this.server.conns.size,
      peersReady,
      servingCalls: this.server.inflight,
      outgoingCalls,
      retries: this.retries,
      hedges: this.router.hedges,
      streams: { ...this.streamCounters },
      admission: this.admission.stats(),
      outliers: this.peers.outliers.stats(),
      uptimeMs: Date.now() - this.startedAt,
    };
  }

  /**
   * Hosts a service. Call before start(). With `{ internal: true }` the service
   * is callable over RPC but never exposed by the gateway, OpenAPI or the
   * console, and its descriptors are not published (goms.v1.* services always are internal).
   */
  service<Desc extends DescService>(desc: Desc, impl: ServiceImpl<Desc>, options: ServiceOptions = {}): this {
    if (this.state !== "new") throw new GomsError("register services before start()", Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    this.table.add(desc, impl as Record<string, unknown>, options, options.internal ?? false);
    this.server.identityChanged();
    return this;
  }

  /** The port the node listens on (after start). */
  get port(): number {
    return this.server.port;
  }

  identity(): NodeIdentity {
    const o = this.opts.identity;
    const listen = this.opts.listen;
    return create(NodeIdentitySchema, {
      id: o.id ?? 0,
      name: o.name,
      type: o.type ?? "",
      region: o.region ?? 0,
      set: o.set ?? "",
      host: listen?.host ?? "127.0.0.1",
      port: this.server.port,
      services: [...this.table.services.keys()],
      version: VERSION,
      pid: process.pid,
      outerHost: listen?.outerHost ?? "",
    });
  }

  /** Listens (with `listen`), runs onStart hooks and connects to the configured peers. */
  async start(): Promise<this> {
    if (this.state !== "new") throw new GomsError(`node ${this.name} was already started`, Code.FailedPrecondition, { reason: "GOMS_ERR_BAD_STATE" });
    this.state = "starting";
    const listen = this.opts.listen;
    if (listen !== undefined) await this.server.listen(listen.host ?? "127.0.0.1", listen.port ?? 0);
    for (const s of this.table.services.values()) await s.hooks.onStart?.();
    this.state = "running";
    const peers = (this.opts.peers?.addresses ?? []).map((a) => this.addPeer(a));
    const { registry, connectAll = false, syncTimeoutMs = 2000 } = this.opts.discovery ?? {};
    if (registry !== undefined) {
      this.membership = new Membership(
        { registry, connectAll, syncTimeoutMs },
        {
          name: this.name,
          region: this.opts.identity.region ?? 0,
          addPeer: (a) => void this.addPeer(a),
          removePeer: (a) => this.removePeer(a),
          probe: (name) =>
            this.peers.pickNode(name) === undefined
              ? Promise.resolve(false)
              : this.client(NodeService)
                  .ping({}, { node: name, timeoutMs: 1000, retry: false })
                  .then(
                    () => true,
                    () => false,
                  ),
        },
      );
      await this.membership.start(this.server.port > 0 ? this.identity() : undefined, this.table);
    }
    await Promise.all(peers.map((p) => this.peerSet.firstContact(p)));
    return this;
  }

  // ---- read-only queries --------------------------------------------------

  /**
   * Registrations of the other nodes known through the registry (name ->
   * NodeRegistration, with identity and service descriptors). Empty without a registry.
   */
  discovered(): ReadonlyMap<string, NodeRegistration> {
    return this.membership?.known ?? new Map();
  }

  /** The peers this node dialled, ready or not, with their identity once they said HELLO. */
  peerList(): PeerView[] {
    return this.peerSet.list();
  }

  /** The services this node hosts: descriptor and whether it is internal. */
  hostedServices(): { desc: DescService; internal: boolean }[] {
    return [...this.table.services.values()].map((s) => ({ desc: s.desc, internal: s.internal }));
  }

  /** Resolves once some peer is ready (or `timeoutMs` passed: then false). */
  waitForPeer(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.peerSet.waitForReady(timeoutMs, signal);
  }

  /**
   * The nodes that host `service` (fully-qualified name) as this node knows them:
   * connected peers (ready: true) and nodes registered but not dialled yet.
   * For callers that do their own sharding; pin calls with `{ node: name }`.
   */
  nodesOf(service: string): { name: string; identity: NodeIdentity; ready: boolean }[] {
    const out = new Map<string, { name: string; identity: NodeIdentity; ready: boolean }>();
    for (const reg of this.membership?.discovery.nodesFor(service) ?? []) if (reg.node) out.set(reg.node.name, { name: reg.node.name, identity: reg.node, ready: false });
    for (const p of this.peers.all(service)) if (p.identity) out.set(p.identity.name, { name: p.identity.name, identity: p.identity, ready: true });
    if (this.table.services.has(service)) out.set(this.name, { name: this.name, identity: this.identity(), ready: true });
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- peers ---------------------------------------------------------------

  /** Connects to another node. Its services become routable once it says HELLO. */
  addPeer(address: PeerAddress): Peer {
    return this.peerSet.add(address);
  }

  /** Disconnects from a peer (after its in-flight calls). */
  removePeer(address: { host: string; port: number }): void {
    this.peerSet.remove(address);
  }

  // ---- calling: every entry point below goes through the one pipeline (Caller) ----

  /** A typed client for a service: load-balanced, or pinned with `{ node }` in call options. */
  client<Desc extends DescService>(desc: Desc): Client<Desc> {
    return this.clients.plain(desc) as Client<Desc>;
  }

  /** Like client(), with ret and response metadata: { message, ret, metadata }, or for a server/bidi stream { messages, ret, trailer }. */
  detailedClient<Desc extends DescService>(desc: Desc): DetailedClient<Desc> {
    return this.clients.detailed(desc) as DetailedClient<Desc>;
  }

  /** One-way calls: no response, resolves once sent (or handed to the in-process handler); client streams once every request was sent. */
  sender<Desc extends DescService>(desc: Desc): OneWayClient<Desc> {
    return this.clients.oneWay(desc) as OneWayClient<Desc>;
  }

  /** Calls every node hosting the service (including this one), in parallel: one pipeline call per node. Unary methods only. */
  broadcast<Desc extends DescService>(desc: Desc): BroadcastClient<Desc> {
    return this.clients.broadcast(desc, async (m, req, o) => {
      const targets = await this.router.targets(desc.typeName, o?.timeoutMs ?? this.defaultTimeoutMs);
      const rm = routedMethod(m);
      return Promise.all(
        targets.map(async (node) => {
          try {
            const r = (await this.caller.call(rm, req, { ...o, node }, false, true)) as CallResult<unknown>;
            return { node, ok: true as const, message: r.message, ret: r.ret };
          } catch (error) {
            return { node, ok: false as const, error: GomsError.from(error) };
          }
        }),
      );
    }) as BroadcastClient<Desc>;
  }

  /** A call by descriptor: message (or init shape) in; message, ret and metadata out. For code that resolves methods at run time. */
  invoke(method: DescMethod, request: unknown, options?: CallOptions): Promise<CallResult<unknown>> {
    return this.caller.invoke(method, request, options);
  }

  /** Protobuf bytes in and out, by descriptor. */
  rawCall(method: DescMethod, payload: Uint8Array, options?: CallOptions): Promise<CallResult<Uint8Array>> {
    return this.caller.call(routedMethod(method, true), payload, options, false, true) as Promise<CallResult<Uint8Array>>;
  }

  /**
   * Calls `recorder.record(...)` synchronously for every call this node makes
   * or serves: the low-overhead path for in-process collectors (no event
   * object, unlike the goms:rpc:* diagnostics channels). On hot methods only
   * some calls are timed; each record carries its weight (see `callTiming`).
   * Returns a remover.
   */
  addCallRecorder(recorder: CallRecorder): () => void {
    return this.reporter.add(recorder);
  }

  private notRunning(): GomsError {
    return new GomsError(`node ${this.name} is ${this.state === "new" ? "not started" : this.state}`, Code.Unavailable, { reason: "GOMS_ERR_NODE_NOT_RUNNING" });
  }

  // ---- shutdown -----------------------------------------------------------

  /** Simulates a crash, for tests: connections drop at once, nothing drains, no hooks, the registration expires with its lease. */
  async kill(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closing = Promise.resolve();
    this.membership?.abandon();
    const killed = this.server.kill();
    this.peerSet.kill();
    this.router.stop();
    await killed;
  }

  /**
   * Graceful shutdown (health: draining): leave the registry, stop accepting, send GOAWAY, let in-flight
   * calls (network and in-process, then this node's own outgoing ones) finish within the grace period; run onStop hooks.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return (this.closing ??= this.doClose(options.graceMs ?? this.opts.limits?.shutdownGraceMs ?? 10_000));
  }

  private async doClose(graceMs: number): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "closing";
    const deadline = Date.now() + graceMs;
    // Leave the registry first so that other nodes stop routing here while we drain.
    await this.membership?.close();
    await this.server.drain(deadline);
    await this.peerSet.close(deadline);
    this.router.stop();
    if (wasRunning) for (const s of this.table.services.values()) await s.hooks.onStop?.();
    this.state = "closed";
  }
}

/** Creates a node. Nothing happens on the network until start(). */
export function createNode(options: NodeOptions): GomsNode {
  return new GomsNode(options);
}
