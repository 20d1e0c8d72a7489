import { AsyncLocalStorage } from "node:async_hooks";
import { timingSafeEqual } from "node:crypto";
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { NodeIdentitySchema, NodeService, type Hello, type NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import { makeHello, type CallObserver } from "../internal/conn/client-conn.js";
import type { Dispatcher } from "../internal/conn/dispatcher.js";
import { defaultConnOptions, type ConnOptions } from "../internal/conn/options.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import { ServerConn } from "../internal/conn/server-conn.js";
import { tcpTransport } from "../internal/transport/tcp.js";
import type { Listener, Transport } from "../internal/transport/types.js";
import { VERSION } from "../version.js";
import { defaultBackoff, type BackoffOptions } from "../internal/util/backoff.js";
import type { PeerEvent } from "./diagnostics.js";
import { channels } from "./diagnostics.js";
import type { HandlerContext, PeerInfo } from "./context.js";
import { introspection } from "./introspection.js";
import { composeClient } from "./interceptors.js";
import type { NodeOptions } from "./node-options.js";
import { Peer, type PeerAddress } from "./peer.js";
import { Router } from "./router.js";
import { Discovery, type RegistrationHandle } from "./discovery.js";
import { defaultRetryBudget, RetryBudget } from "./retry-budget.js";
import { jsonMethod, rawMethod, typedMethod, type RoutedMethod } from "./client-method.js";
import { ServiceTable } from "./services.js";
import { resolveCallOptions, resolveMethodPath, type ResolvedCallOptions } from "./call-options.js";
import { timingPolicy } from "./timing-sampler.js";
import { CallReporter, type CallRecorder } from "./call-reporting.js";
import { CallRouter } from "./call-router.js";
import { makeClients } from "./clients.js";
import type {
  BroadcastClient,
  CallOptions,
  CallResult,
  Client,
  DetailedClient,
  OneWayClient,
  ServiceHooks,
  ServiceImpl,
  UnaryFn,
  UnaryRequest,
} from "./types.js";

/** Cheap read-only counters of a node (for monitoring). */
export interface NodeCounters {
  /** Inbound connections (other nodes and clients connected to this one). */
  serverConnections: number;
  /** Peers this node dialled that are ready for calls. */
  peersReady: number;
  /** Calls this node is serving right now (network). */
  servingCalls: number;
  /** Calls this node has outstanding on its peer connections. */
  outgoingCalls: number;
  /** Retries of idempotent calls on another node, since start. */
  retries: number;
  /** Milliseconds since the node was created. */
  uptimeMs: number;
}

export interface CloseOptions {
  /** Override NodeOptions.shutdownGraceMs. */
  graceMs?: number;
}

/** A goms node: hosts services, calls other nodes. Create with createNode(). */
export class GomsNode {
  readonly name: string;
  readonly table: ServiceTable;
  readonly router: Router;
  private readonly budget: RetryBudget;
  private readonly opts: NodeOptions;
  private readonly connOpts: ConnOptions;
  private readonly backoff: BackoffOptions;
  private readonly transport: Transport;
  private readonly serverConns = new Set<ServerConn>();
  private listener: Listener | undefined;
  private boundPort = 0;
  private state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  private readonly defaultTimeoutMs: number;
  private readonly localPeer: PeerInfo;
  private readonly invokeChain: UnaryFn | undefined;
  private readonly startedAt = Date.now();
  private helloCache: Hello | undefined;
  private closing: Promise<void> | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly calls: CallRouter;
  private readonly reporter: CallReporter;
  /** Connections report each call here; publishing happens only with subscribers. */
  private readonly callObserver: CallObserver = {
    weight: (m) => this.reporter.clientWeight(m as RoutedMethod),
    settled: (m, code, ret, startedAt, weight) => this.reporter.client(m as RoutedMethod, code, ret, startedAt, weight),
  };
  private discovery: Discovery | undefined;
  /** The handler context of the call being served, for implicit nested-call inheritance. */
  private readonly als: AsyncLocalStorage<HandlerContext> | undefined;
  private registration: RegistrationHandle | undefined;
  private retries = 0;

  constructor(opts: NodeOptions) {
    if (!opts.name) throw new GomsError("node name is required", Code.InvalidArgument);
    this.opts = opts;
    this.name = opts.name;
    this.connOpts = { ...defaultConnOptions, ...opts.connection };
    this.backoff = { ...defaultBackoff, ...opts.reconnect };
    this.transport =
      opts.transport ??
      tcpTransport({
        ...(opts.tls ? { tls: opts.tls } : {}),
        ...(opts.peerTls ? { peerTls: opts.peerTls } : {}),
        ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      });
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 30_000;
    this.router = new Router({
      balancer: opts.balancer ?? "round-robin",
      region: opts.preferSameRegion === false ? undefined : (opts.region ?? 0),
    });
    this.budget = new RetryBudget({ ...defaultRetryBudget, ...opts.retryBudget });
    this.als = opts.inheritContext === false ? undefined : new AsyncLocalStorage<HandlerContext>();
    this.table = new ServiceTable(opts.serverInterceptors ?? [], this.als);
    this.localPeer = { address: "local", node: undefined, local: true };
    this.reporter = new CallReporter(this.name, timingPolicy(opts.callTiming));
    this.calls = new CallRouter({
      name: this.name,
      table: this.table,
      router: this.router,
      budget: this.budget,
      connOpts: this.connOpts,
      localPeer: this.localPeer,
      discovery: () => this.discovery,
      served: (c, e, t) => this.served(c, e, t),
      onRetry: () => void this.retries++,
      reporter: this.reporter,
    });
    const base: UnaryFn = (r) => this.dispatch(r) as Promise<never>;
    this.invokeChain = opts.interceptors?.length ? composeClient(opts.interceptors, base) : undefined;
    const isAccepting = (): boolean => this.state === "running" || this.state === "starting";
    this.dispatcher = {
      maxConcurrentCalls: opts.maxConcurrentCalls ?? 10_000,
      lookup: (path) => this.table.lookup(path),
      missing: (path) => this.table.missing(path, this.name),
      hello: () => this.hello(),
      admit: (hello) => this.admit(hello),
      finished: (call, err, startedAt) => this.served(call, err, startedAt),
      get accepting() {
        return isAccepting();
      },
    };
    this.table.add(
      NodeService,
      introspection({
        identity: () => this.identity(),
        table: this.table,
        startedAt: this.startedAt,
        connections: () => this.serverConns.size,
        callsInFlight: () => {
          let n = 0;
          for (const c of this.serverConns) n += c.calls.size;
          return n;
        },
      }) as Record<string, unknown>,
      {},
    );
  }

  /** Counters for monitoring; O(connections + peers), no allocation beyond the result. */
  stats(): NodeCounters {
    let servingCalls = 0;
    for (const c of this.serverConns) servingCalls += c.calls.size;
    let peersReady = 0;
    let outgoingCalls = 0;
    for (const p of this.router.peers.values()) {
      if (p.state === "ready") peersReady++;
      outgoingCalls += p.conn?.inflight ?? 0;
    }
    return { serverConnections: this.serverConns.size, peersReady, servingCalls, outgoingCalls, retries: this.retries, uptimeMs: Date.now() - this.startedAt };
  }

  /** Hosts a service. Call before start(). */
  service<Desc extends DescService>(desc: Desc, impl: ServiceImpl<Desc>, hooks: ServiceHooks = {}): this {
    if (this.state !== "new") throw new GomsError("register services before start()", Code.FailedPrecondition);
    this.table.add(desc, impl as Record<string, unknown>, hooks);
    this.helloCache = undefined;
    return this;
  }

  /** The port the node listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  identity(): NodeIdentity {
    const o = this.opts;
    return create(NodeIdentitySchema, {
      id: o.id ?? 0,
      name: o.name,
      type: o.type ?? "",
      region: o.region ?? 0,
      set: o.set ?? "",
      host: o.host ?? "127.0.0.1",
      port: this.boundPort,
      services: [...this.table.services.keys()],
      version: VERSION,
      pid: process.pid,
      outerHost: o.outerHost ?? "",
    });
  }

  private hello(): Hello {
    return (this.helloCache ??= makeHello(this.identity(), this.connOpts, this.dispatcher.maxConcurrentCalls, this.opts.peerToken ?? this.opts.token));
  }

  private admit(hello: Hello): GomsError | undefined {
    const want = this.opts.token;
    if (want === undefined) return undefined;
    const a = Buffer.from(hello.token, "utf8");
    const b = Buffer.from(want, "utf8");
    if (a.length !== b.length || !timingSafeEqual(a, b)) return new GomsError("invalid or missing token", Code.Unauthenticated);
    return undefined;
  }

  /** Listens (when a port is set), runs onStart hooks and connects to the configured peers. */
  async start(): Promise<this> {
    if (this.state !== "new") throw new GomsError(`node ${this.name} was already started`, Code.FailedPrecondition);
    this.state = "starting";
    if (this.opts.port !== undefined) {
      this.listener = await this.transport.listen(this.opts.host ?? "127.0.0.1", this.opts.port, (stream, info) => {
        if (this.state === "closing" || this.state === "closed") {
          stream.destroy();
          return;
        }
        const conn: ServerConn = new ServerConn(stream, this.connOpts, this.dispatcher, info, {
          onHello: () => undefined,
          onClose: (c) => this.serverConns.delete(c),
          onDrained: (c) => {
            if (this.state === "closing") c.destroy(new GomsError("node closed", Code.Unavailable), true);
          },
        });
        this.serverConns.add(conn);
      });
      this.boundPort = this.listener.port;
      this.helloCache = undefined;
    }
    for (const s of this.table.services.values()) await s.hooks.onStart?.();
    this.state = "running";
    const peers = (this.opts.peers ?? []).map((a) => this.addPeer(a));
    const registry = this.opts.registry;
    if (registry !== undefined) {
      if (this.listener !== undefined) {
        const files = create(FileDescriptorSetSchema, { file: this.table.files([]).map((f) => f.proto) });
        this.registration = await registry.register(this.identity(), files);
      }
      this.discovery = new Discovery(
        {
          name: this.name,
          region: this.opts.region ?? 0,
          addPeer: (a) => void this.addPeer(a),
          removePeer: (a) => this.removePeer(a),
          probe: (name) =>
            this.router.pickNode(name) === undefined
              ? Promise.resolve(false)
              : this.client(NodeService)
                  .ping({}, { node: name, timeoutMs: 1000, retry: false })
                  .then(
                    () => true,
                    () => false,
                  ),
        },
        registry,
        this.opts.connectAll ?? false,
      );
      this.discovery.start();
      await Promise.race([this.discovery.synced, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    await Promise.all(peers.map((p) => this.firstContact(p)));
    return this;
  }

  /** Resolves once the peer answered or failed its first attempt. */
  private firstContact(p: Peer): Promise<void> {
    if (p.state !== "connecting") return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (p.state !== "connecting") resolve();
        else void this.router.waitChange(Date.now() + this.connOpts.handshakeTimeoutMs * 2, undefined).then(check, () => resolve());
      };
      check();
    });
  }

  /**
   * Registrations of the other nodes known through the registry (name ->
   * NodeRegistration, with identity and service descriptors). Empty without a registry.
   */
  discovered(): ReadonlyMap<string, NodeRegistration> {
    return this.discovery?.known ?? new Map();
  }

  /**
   * The nodes that host `service` (full or short name) as this node knows them:
   * connected peers (ready: true) and nodes registered but not dialled yet.
   * For callers that do their own sharding; pin calls with `{ node: name }`.
   */
  nodesOf(service: string): { name: string; identity: NodeIdentity; ready: boolean }[] {
    const full = this.resolvePath(`${service}/x`).split("/")[0]!;
    const out = new Map<string, { name: string; identity: NodeIdentity; ready: boolean }>();
    for (const reg of this.discovery?.nodesFor(full) ?? []) if (reg.node) out.set(reg.node.name, { name: reg.node.name, identity: reg.node, ready: false });
    for (const p of this.router.all(full)) if (p.identity) out.set(p.identity.name, { name: p.identity.name, identity: p.identity, ready: true });
    if (this.table.services.has(full)) out.set(this.name, { name: this.name, identity: this.identity(), ready: true });
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Connects to another node. Its services become routable once it says HELLO. */
  addPeer(address: PeerAddress): Peer {
    const existing = this.router.peers.get(`${address.host}:${address.port}`);
    if (existing) return existing;
    const peer = new Peer(address, this.transport, this.connOpts, this.hello(), this.backoff, {
      onReady: (p) => {
        this.router.rebuild();
        this.peerEvent(p, "connected");
        for (const s of this.table.services.values()) s.hooks.onPeerConnect?.(p.identity!);
      },
      onDown: (p, err) => {
        this.router.rebuild();
        this.peerEvent(p, "disconnected", err.rawMessage);
        if (p.identity) for (const s of this.table.services.values()) s.hooks.onPeerDisconnect?.(p.identity, err);
      },
    }, this.callObserver);
    this.router.add(peer);
    if (this.state === "running" || this.state === "starting") peer.start();
    return peer;
  }

  /** Disconnects from a peer (after its in-flight calls). */
  removePeer(address: { host: string; port: number }): void {
    this.router.remove(`${address.host}:${address.port}`)?.close(false);
  }

  private peerEvent(p: Peer, state: PeerEvent["state"], reason?: string): void {
    if (!channels.peer.hasSubscribers) return;
    const ev: PeerEvent = { node: this.name, peer: p.name, address: p.key, state, ...(reason !== undefined ? { reason } : {}) };
    channels.peer.publish(ev);
  }

  // ---- calling ----------------------------------------------------------

  /** A typed client for a service: load-balanced, or pinned with `{ node }` in call options. */
  client<Desc extends DescService>(desc: Desc): Client<Desc> {
    return makeClients(desc, (m, req, o) => this.invoke(typedMethod(m), m, req, o, false)) as Client<Desc>;
  }

  /** Like client(), but each call resolves with { message, ret, metadata }. */
  detailedClient<Desc extends DescService>(desc: Desc): DetailedClient<Desc> {
    return makeClients(desc, (m, req, o) => this.invoke(typedMethod(m), m, req, o, true)) as DetailedClient<Desc>;
  }

  /** One-way calls: no response, resolves once queued. */
  sender<Desc extends DescService>(desc: Desc): OneWayClient<Desc> {
    return makeClients(desc, (m, req, o) => this.sendOneWay(typedMethod(m), req, o)) as OneWayClient<Desc>;
  }

  /** Calls every node hosting the service (including this one), in parallel. */
  broadcast<Desc extends DescService>(desc: Desc): BroadcastClient<Desc> {
    return makeClients(desc, async (m, req, o) => {
      await this.calls.awaitDiscovery(o?.timeoutMs ?? this.defaultTimeoutMs);
      if (this.discovery?.want(desc.typeName)) await this.calls.settlePeers(o?.timeoutMs ?? this.defaultTimeoutMs);
      const targets = this.router.all(desc.typeName).map((p) => p.name);
      if (this.table.services.has(desc.typeName)) targets.unshift(this.name);
      const rm = typedMethod(m);
      return Promise.all(
        targets.map(async (node) => {
          try {
            const r = (await this.invoke(rm, m, req, { ...o, node }, true)) as CallResult<unknown>;
            return { node, ok: true as const, message: r.message, ret: r.ret };
          } catch (error) {
            return { node, ok: false as const, error: GomsError.from(error) };
          }
        }),
      );
    }) as BroadcastClient<Desc>;
  }

  /** Protobuf bytes in and out, by method name ("Service.Method", "pkg.Service.Method" or "pkg.Service/Method"). */
  rawCall(method: string, payload: Uint8Array, options?: CallOptions): Promise<CallResult<Uint8Array>> {
    return this.invoke(rawMethod(this.resolvePath(method)), undefined, payload, options, true) as Promise<CallResult<Uint8Array>>;
  }

  /** proto3 JSON in and out, by method name; the serving node transcodes with its descriptors. */
  jsonCall(method: string, json: string, options?: CallOptions): Promise<CallResult<string>> {
    return this.invoke(jsonMethod(this.resolvePath(method)), undefined, json, options, true) as Promise<CallResult<string>>;
  }

  /** Turns "DB.Query" / "pkg.DB.Query" / "pkg.DB/Query" into a wire path, using known services. */
  resolvePath(method: string): string {
    return resolveMethodPath(method, (s) => this.table.services.has(s) || this.router.all(s).length > 0 || (this.discovery?.nodesFor(s).length ?? 0) > 0, () => [
      ...new Set([...this.table.services.keys(), ...this.router.services(), ...(this.discovery?.services() ?? [])]),
    ]);
  }

  private resolveOptions(o: CallOptions | undefined): ResolvedCallOptions {
    return resolveCallOptions(o, this.defaultTimeoutMs);
  }

  private served(call: ServerCall, err: GomsError | undefined, startedAt: number): void {
    this.reporter.server(call, err, startedAt);
  }

  /**
   * Calls `recorder.record(...)` synchronously for every call this node makes
   * or serves: the low-overhead path for in-process collectors (no event
   * object, unlike the goms:rpc:* diagnostics channels). On hot methods only
   * some calls are timed; each record carries its weight (see `callTiming`).
   * Returns a remover.
   */
  addCallRecorder(recorder: CallRecorder): () => void {
    this.reporter.recorders.push(recorder);
    return () => {
      const i = this.reporter.recorders.indexOf(recorder);
      if (i >= 0) this.reporter.recorders.splice(i, 1);
    };
  }

  /** Inside a handler, calls inherit its context unless they name a parent themselves. */
  private inherit(o: CallOptions | undefined): CallOptions | undefined {
    if (this.als === undefined || o?.parent !== undefined) return o;
    const current = this.als.getStore();
    return current === undefined ? o : { ...o, parent: current };
  }

  /** The hot path: interceptors (if any), then local, pinned or load-balanced dispatch. */
  private invoke(rm: RoutedMethod, desc: DescMethod | undefined, value: unknown, o: CallOptions | undefined, full: boolean): Promise<unknown> {
    if (this.state !== "running") return Promise.reject(this.notRunning());
    o = this.inherit(o);
    if (this.invokeChain !== undefined && desc !== undefined) {
      let r;
      try {
        r = this.resolveOptions(o);
      } catch (e) {
        return Promise.reject(e);
      }
      const req: UnaryRequest & { rm: RoutedMethod; hint: CallOptions | undefined } = {
        service: desc.parent,
        method: desc,
        message: value,
        timeoutMs: r.timeoutMs,
        metadata: r.metadata,
        signal: r.signal,
        node: o?.node,
        rm,
        hint: o,
      };
      // Reported to goms:rpc:client by the connection (or route()), like any call.
      const p = this.invokeChain(req);
      return full ? p : p.then((res) => (res as CallResult<unknown>).message);
    }
    // Calls sent on a connection are reported to goms:rpc:client by the connection
    // itself (no extra promise per call); route() reports the others.
    if (o === undefined) return this.calls.route(rm, value, this.defaultTimeoutMs, undefined, undefined, undefined, full, undefined);
    let r;
    try {
      r = this.resolveOptions(o);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.calls.route(rm, value, r.timeoutMs, r.metadata, r.signal, o.node, full, o);
  }

  /** Base of the interceptor chain. */
  private dispatch(r: UnaryRequest): Promise<unknown> {
    const { rm, hint } = r as UnaryRequest & { rm: RoutedMethod; hint: CallOptions | undefined };
    return this.calls.route(rm, r.message, r.timeoutMs, r.metadata, r.signal, r.node, true, hint);
  }

  private sendOneWay(rm: RoutedMethod, value: unknown, o: CallOptions | undefined): Promise<void> {
    if (this.state !== "running") return Promise.reject(this.notRunning());
    o = this.inherit(o);
    let r;
    try {
      r = this.resolveOptions(o);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.calls.send(rm, value, r, o?.node, o?.shardKey);
  }

  private notRunning(): GomsError {
    return new GomsError(`node ${this.name} is ${this.state === "new" ? "not started" : this.state}`, Code.Unavailable);
  }

  // ---- shutdown -----------------------------------------------------------

  /**
   * Simulates a crash, for tests: every connection drops at once, nothing is
   * drained, hooks do not run and the registration is abandoned (it expires
   * with its lease instead of being removed).
   */
  async kill(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closing = Promise.resolve();
    this.registration?.abandon?.();
    this.discovery?.stopSoon();
    const listenerClosed = this.listener?.close();
    for (const c of [...this.serverConns]) c.destroy(new GomsError("node killed", Code.Unavailable));
    for (const p of this.router.peers.values()) p.close(true);
    this.router.rebuild();
    await listenerClosed;
  }

  /**
   * Graceful shutdown: stop accepting, send GOAWAY, let in-flight calls finish
   * within the grace period (then cancel them), run onStop hooks, close.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return (this.closing ??= this.doClose(options.graceMs ?? this.opts.shutdownGraceMs ?? 10_000));
  }

  private async doClose(graceMs: number): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "closing";
    // Leave the registry first so that other nodes stop routing here while we drain.
    await this.registration?.close().catch(() => undefined);
    await this.discovery?.stop();
    // net.Server#close resolves only once every connection is gone: start it, await it last.
    const listenerClosed = this.listener?.close();
    for (const c of this.serverConns) c.drain("node is shutting down");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.serverConns].some((c) => c.calls.size > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of [...this.serverConns]) c.destroy(new GomsError("node closed", Code.Unavailable), true);
    const peers = [...this.router.peers.values()];
    for (const p of peers) p.close(false);
    while (Date.now() < deadline && peers.some((p) => (p.conn?.inflight ?? 0) > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const p of peers) p.close(true);
    this.router.rebuild();
    await listenerClosed;
    if (wasRunning) for (const s of this.table.services.values()) await s.hooks.onStop?.();
    this.state = "closed";
  }
}

/** Creates a node. Nothing happens on the network until start(). */
export function createNode(options: NodeOptions): GomsNode {
  return new GomsNode(options);
}
