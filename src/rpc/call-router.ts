import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { ClientConn } from "../internal/conn/client-conn.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import type { ResolvedCallOptions } from "./call-options.js";
import type { CallReporter } from "./call-reporting.js";
import type { RoutedMethod } from "./client-method.js";
import type { Metadata, PeerInfo } from "./context.js";
import type { Discovery } from "./discovery.js";
import { callLocal } from "./local-call.js";
import type { RetryBudget } from "./retry-budget.js";
import type { Router } from "./router.js";
import { isIdempotent, type ServiceTable } from "./services.js";
import type { CallOptions, CallResult } from "./types.js";

/** What call routing needs from its node. */
export interface CallRouterDeps {
  readonly name: string;
  readonly table: ServiceTable;
  readonly router: Router;
  readonly budget: RetryBudget;
  readonly connOpts: ConnOptions;
  readonly localPeer: PeerInfo;
  /** The node's discovery, once start() created it. */
  discovery(): Discovery | undefined;
  served(call: ServerCall, err: GomsError | undefined, startedAt: number): void;
  onRetry(): void;
  readonly reporter: CallReporter;
}

/**
 * Where a call goes: in-process when the service is hosted here, else a
 * connection picked by the router (waiting for one within the deadline), with
 * budgeted retries of idempotent calls on another node.
 */
export class CallRouter {
  constructor(private readonly d: CallRouterDeps) {}

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
    while (this.d.router.connecting && Date.now() < deadline) {
      await this.d.router.waitChange(deadline, undefined).catch(() => undefined);
    }
  }

  route(
    rm: RoutedMethod,
    value: unknown,
    timeoutMs: number,
    metadata: Metadata | undefined,
    signal: AbortSignal | undefined,
    node: string | undefined,
    full: boolean,
    hint: CallOptions | undefined,
  ): Promise<unknown> {
    if (node === undefined || node === this.d.name) {
      const local = this.d.table.lookup(rm.pathString);
      if (local !== undefined) {
        const started = this.d.reporter.clientActive() ? performance.now() : -1;
        const lp =
          rm.desc === undefined
            ? this.localRawOrJson(rm, value, timeoutMs, metadata, signal)
            : callLocal(local, value, timeoutMs, metadata, signal, full, this.d.localPeer, (c, e, t) => this.d.served(c, e, t));
        return started < 0 ? lp : this.d.reporter.trace(lp, rm, started, full || rm.desc === undefined);
      }
      if (node === this.d.name) return Promise.reject(this.d.table.missing(rm.pathString, this.d.name));
    }
    const conn = node === undefined ? this.d.router.pick(rm.service, hint?.shardKey) : this.d.router.pickNode(node);
    if (conn !== undefined) return this.callRemote(conn, rm, value, timeoutMs, metadata, signal, full, node, hint);
    return this.waitAndRoute(rm, value, timeoutMs, metadata, signal, node, full, hint);
  }

  /** Sends on `conn`; idempotent calls that fail unavailable are retried on another node. */
  private callRemote(
    conn: ClientConn,
    rm: RoutedMethod,
    value: unknown,
    timeoutMs: number,
    metadata: Metadata | undefined,
    signal: AbortSignal | undefined,
    full: boolean,
    node: string | undefined,
    hint: CallOptions | undefined,
  ): Promise<unknown> {
    const p = conn.call(rm, value, timeoutMs, metadata, signal, full);
    const retry = hint?.retry ?? (rm.desc !== undefined && isIdempotent(rm.desc));
    if (!retry || node !== undefined) return p;
    this.d.budget.deposit();
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
    const again = (err: unknown, failed: ClientConn, attempt: number): Promise<unknown> => {
      if (!GomsError.is(err) || err.code !== Code.Unavailable || attempt > this.d.budget.opts.maxRetries) throw err;
      if (signal?.aborted) throw err;
      const left = deadline === undefined ? 0 : deadline - Date.now();
      if (deadline !== undefined && left <= 0) throw err;
      const next = this.d.router.pick(rm.service, hint?.shardKey, failed);
      if (next === undefined || !this.d.budget.withdraw()) throw err;
      this.d.onRetry();
      return next.call(rm, value, left, metadata, signal, full).catch((e: unknown) => again(e, next, attempt + 1));
    };
    return p.catch((e: unknown) => again(e, conn, 1));
  }

  /** No ready target: wait for a connecting peer within the deadline, else fail unavailable. */
  private async waitAndRoute(
    rm: RoutedMethod,
    value: unknown,
    timeoutMs: number,
    metadata: Metadata | undefined,
    signal: AbortSignal | undefined,
    node: string | undefined,
    full: boolean,
    hint: CallOptions | undefined,
  ): Promise<unknown> {
    const started = performance.now();
    // Failures before a connection takes the call are reported here; the connection reports the rest.
    const fail = (err: GomsError): GomsError => {
      if (this.d.reporter.clientActive()) this.d.reporter.client(rm, err.code, err.ret, started);
      return err;
    };
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Date.now() + this.d.connOpts.handshakeTimeoutMs * 2;
    await this.awaitDiscovery(timeoutMs > 0 ? deadline - Date.now() : 0);
    for (;;) {
      const conn = node === undefined ? this.d.router.pick(rm.service, hint?.shardKey) : this.d.router.pickNode(node);
      if (conn !== undefined) {
        const left = timeoutMs > 0 ? deadline - Date.now() : 0;
        if (timeoutMs > 0 && left <= 0) throw fail(new GomsError("deadline exceeded while waiting for a node", Code.DeadlineExceeded));
        return this.callRemote(conn, rm, value, timeoutMs > 0 ? left : 0, metadata, signal, full, node, hint);
      }
      if (node === undefined) this.d.discovery()?.want(rm.service);
      else this.d.discovery()?.wantNode(node);
      if (!this.d.router.connecting) {
        throw fail(
          new GomsError(node === undefined ? `no node hosting ${rm.service} is available` : `node ${node} is not connected`, Code.Unavailable),
        );
      }
      await this.d.router.waitChange(deadline, signal).catch((e: unknown) => {
        throw fail(GomsError.from(e));
      });
    }
  }

  /** Raw/JSON call to a service this node hosts: transcode locally. */
  private async localRawOrJson(rm: RoutedMethod, value: unknown, timeoutMs: number, metadata: Metadata | undefined, signal: AbortSignal | undefined): Promise<CallResult<unknown>> {
    const { fromBinary, toBinary, fromJsonString, toJsonString } = await import("@bufbuild/protobuf");
    const entry = this.d.table.lookup(rm.pathString)!;
    const isJson = typeof value === "string";
    let req;
    try {
      req = isJson ? fromJsonString(entry.method.input, value) : fromBinary(entry.method.input, value as Uint8Array);
    } catch (e) {
      throw new GomsError(`cannot decode ${entry.method.input.typeName}: ${(e as Error).message}`, Code.InvalidArgument, { cause: e });
    }
    const r = (await callLocal(entry, req, timeoutMs, metadata, signal, true, this.d.localPeer, (c, e, t) => this.d.served(c, e, t))) as CallResult<never>;
    return { ...r, message: isJson ? toJsonString(entry.method.output, r.message) : toBinary(entry.method.output, r.message) };
  }

  /** One-way send with resolved options: in-process when hosted here, else queued on a connection. */
  send(rm: RoutedMethod, value: unknown, r: ResolvedCallOptions, node: string | undefined, shardKey: string | undefined): Promise<void> {
    if (node === undefined || node === this.d.name) {
      const local = this.d.table.lookup(rm.pathString);
      if (local !== undefined) {
        void callLocal(local, value, r.timeoutMs, r.metadata, r.signal, false, this.d.localPeer, (c, e, t) => this.d.served(c, e, t)).catch(() => undefined);
        return Promise.resolve();
      }
    }
    const conn = node === undefined ? this.d.router.pick(rm.service, shardKey) : this.d.router.pickNode(node);
    if (conn === undefined) {
      return Promise.reject(new GomsError(node === undefined ? `no node hosting ${rm.service} is available` : `node ${node} is not connected`, Code.Unavailable));
    }
    return conn.call(rm, value, r.timeoutMs, r.metadata, r.signal, false, true) as Promise<void>;
  }
}
