import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { CallRequest } from "./call-request.js";
import type { CallReporter } from "./call-reporting.js";
import type { Discovery } from "./discovery.js";
import type { Peer } from "./peer.js";
import type { LocalEndpoint } from "./local-endpoint.js";
import type { RetryBudget } from "./retry-budget.js";
import { defaultHedge, Hedger, type HedgeOptions, type HedgeStats } from "./hedge.js";
import { RemoteCall, type RemoteCallHost } from "./remote-call.js";
import { openRemoteStream } from "./remote-stream.js";
import type { PeerTable } from "./peer-table.js";
import { isIdempotent, type ServiceTable } from "./services.js";

/** The options as given (either field set), else the defaults; a bad `afterMs` throws. */
function hedgeOptions(o: HedgeOptions | undefined): HedgeOptions {
  if (o === undefined || (o.afterMs === undefined && o.percentile === undefined)) return defaultHedge;
  if (o.afterMs !== undefined && !(o.afterMs >= 0 && Number.isFinite(o.afterMs))) {
    throw new GomsError(`invalid calls.hedge.afterMs ${String(o.afterMs)}`, Code.InvalidArgument, { reason: "GOMS_ERR_INVALID_OPTION" });
  }
  return o;
}

/** What call routing needs from its node. */
export interface CallRouterDeps {
  readonly name: string;
  readonly table: ServiceTable;
  readonly local: LocalEndpoint;
  readonly peers: PeerTable;
  readonly budget: RetryBudget;
  /** Hedged requests (over the defaults); `false` turns them off. */
  readonly hedge: HedgeOptions | false | undefined;
  readonly connOpts: ConnOptions;
  /** The node's discovery, once start() created it. */
  discovery(): Discovery | undefined;
  onRetry(): void;
  readonly reporter: CallReporter;
}

/**
 * The base of the call pipeline, below the client interceptors: where a call
 * goes. In-process when the service is hosted here, else a connection picked
 * by the peer table (waiting for one within the deadline), with budgeted
 * retries on another node (refused calls, idempotent calls that failed) and
 * hedges of idempotent calls (RemoteCall). One-way calls take the same route
 * and resolve once sent.
 */
export class CallRouter {
  /** What a RemoteCall needs (the deps, and the hedger). */
  private readonly host: RemoteCallHost;

  constructor(private readonly d: CallRouterDeps) {
    const hedger = new Hedger(d.hedge === false ? undefined : hedgeOptions(d.hedge));
    this.host = { peers: d.peers, budget: d.budget, hedger, onRetry: () => d.onRetry() };
  }

  /** Hedges sent, won and refused since start, and each method's delay. */
  get hedges(): HedgeStats {
    return this.host.hedger.stats();
  }

  /** Drops the calls waiting for their hedge time (the node is closing). */
  stop(): void {
    this.host.hedger.stop();
  }

  /** Before the registry's first list arrived, nothing can be routed: wait for it (bounded). */
  async awaitDiscovery(timeoutMs: number): Promise<void> {
    const d = this.d.discovery();
    if (d === undefined || d.isSynced) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([d.synced, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs > 0 ? timeoutMs : 5000)))]);
    clearTimeout(timer);
  }

  /** Waits (bounded) until no peer is still dialling. */
  async settlePeers(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + Math.min(timeoutMs || 5000, this.d.connOpts.handshakeTimeoutMs * 2);
    while (this.d.peers.connecting && Date.now() < deadline) {
      await this.d.peers.waitChange(deadline, undefined).catch(() => undefined);
    }
  }

  /**
   * Every node that hosts `service` now (this one first, when it does), for a
   * broadcast: after discovery's first list, and after dialling the nodes
   * found there (bounded by `timeoutMs`).
   */
  async targets(service: string, timeoutMs: number): Promise<string[]> {
    await this.awaitDiscovery(timeoutMs);
    if (this.d.discovery()?.want(service)) await this.settlePeers(timeoutMs);
    const out = this.d.peers.all(service).map((p) => p.name);
    if (this.d.table.services.has(service)) out.unshift(this.d.name);
    return out;
  }

  /** Resolves with the response message, or with a CallResult when `full`. */
  route(req: CallRequest, full: boolean): Promise<unknown> {
    const rm = req.route;
    const node = req.node;
    if (node === undefined || node === this.d.name) {
      const entry = this.d.table.lookup(rm.pathString);
      if (entry !== undefined) {
        const started = this.d.reporter.clientActive() ? performance.now() : -1;
        const p = this.d.local.call(entry, req, req.timeoutMs, full);
        return started < 0 || req.oneWay ? p : this.d.reporter.trace(p, rm, started, full);
      }
      if (node === this.d.name) return Promise.reject(this.d.table.missing(rm.pathString, this.d.name));
    }
    const peer = node === undefined ? this.d.peers.pick(rm.service, req.shardKey) : this.d.peers.pickNode(node);
    if (peer !== undefined) return this.callRemote(peer, req, req.timeoutMs, full);
    return this.waitAndRoute(req, full);
  }

  /**
   * Sends on the peer's connection. A pinned call, a one-way call or one with
   * `retry: false` is sent as is, its outcome told to the peer's health record
   * (one-way calls excepted: they end when sent). Any other call is a
   * RemoteCall: retried on another node within the retry budget and the
   * deadline (refused with the retry-elsewhere hint, or idempotent and failed
   * unavailable), and hedged when its method is idempotent. Either way one
   * continuation per attempt records the outcome. Streams have rules of their
   * own (openRemoteStream: never hedged, retried only before their first message).
   */
  private callRemote(peer: Peer, req: CallRequest, timeoutMs: number, full: boolean): Promise<unknown> {
    if (req.stream !== undefined) return openRemoteStream(this.host, peer, req, timeoutMs, full);
    if (req.retry === false || req.node !== undefined || req.oneWay) {
      const p = peer.conn!.call(req, timeoutMs, full);
      if (req.oneWay) return p;
      const h = peer.health;
      const t0 = h.sent();
      if (t0 < 0) return p.then(h.onAnswer, h.onError);
      return p.then((v) => {
        h.sample(performance.now() - t0);
        return h.onAnswer(v);
      }, h.onError);
    }
    const idempotent = isIdempotent(req.method);
    this.d.budget.deposit();
    const now = Date.now();
    // A call's own `hedge` overrides its method's: `{ afterMs }` hedges even a method not declared idempotent (the caller says it may run twice).
    const hedgeable = req.hedge === undefined ? idempotent : req.hedge !== false;
    const c = new RemoteCall(this.host, req, full, timeoutMs > 0 ? now + timeoutMs : 0, req.retry ?? idempotent, hedgeable);
    return c.start(peer, timeoutMs, now);
  }

  /** No ready target: wait for a connecting peer within the deadline, else fail unavailable. */
  private async waitAndRoute(req: CallRequest, full: boolean): Promise<unknown> {
    const { route: rm, node, timeoutMs } = req;
    const started = performance.now();
    // Failures before a connection takes the call are reported here; the connection reports the rest.
    const fail = (err: GomsError): GomsError => {
      if (this.d.reporter.clientActive()) this.d.reporter.client(rm, err.code, err.ret, started);
      return err;
    };
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Date.now() + this.d.connOpts.handshakeTimeoutMs * 2;
    await this.awaitDiscovery(timeoutMs > 0 ? deadline - Date.now() : 0);
    for (;;) {
      const peer = node === undefined ? this.d.peers.pick(rm.service, req.shardKey) : this.d.peers.pickNode(node);
      if (peer !== undefined) {
        const left = timeoutMs > 0 ? deadline - Date.now() : 0;
        if (timeoutMs > 0 && left <= 0) throw fail(new GomsError("deadline exceeded while waiting for a node", Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" }));
        return this.callRemote(peer, req, timeoutMs > 0 ? left : 0, full);
      }
      if (node === undefined) this.d.discovery()?.want(rm.service);
      else this.d.discovery()?.wantNode(node);
      if (!this.d.peers.connecting) {
        throw fail(new GomsError(node === undefined ? `no node hosting ${rm.service} is available` : `node ${node} is not connected`, Code.Unavailable));
      }
      await this.d.peers.waitChange(deadline, req.signal).catch((e: unknown) => {
        throw fail(GomsError.from(e));
      });
    }
  }
}
