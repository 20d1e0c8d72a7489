import { GomsError } from "../errors/goms-error.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import type { RoutedMethod } from "./client-method.js";
import { channels, type CallEvent } from "./diagnostics.js";
import type { CallResult } from "./types.js";

/**
 * A low-overhead, in-process alternative to the diagnostics channels: called
 * synchronously for every finished call, with no event object. The built-in
 * monitor collector uses it (GomsNode#addCallRecorder).
 */
export interface CallRecorder {
  record(side: "client" | "server", service: string, method: string, code: number, ret: number, durationMs: number): void;
}

/**
 * Where a node's finished calls go: its recorders, then goms:rpc:client /
 * goms:rpc:server when those channels have subscribers.
 */
export class CallReporter {
  readonly recorders: CallRecorder[] = [];
  constructor(private readonly node: string) {}

  /** True when anything listens to client calls (so timing them is worth it). */
  clientActive(): boolean {
    return this.recorders.length > 0 || channels.client.hasSubscribers;
  }

  serverActive(): boolean {
    return this.recorders.length > 0 || channels.server.hasSubscribers;
  }

  client(rm: RoutedMethod, code: number, ret: number, started: number): void {
    const durationMs = performance.now() - started;
    for (const r of this.recorders) r.record("client", rm.service, rm.method, code, ret, durationMs);
    if (!channels.client.hasSubscribers) return;
    const ev: CallEvent = { side: "client", node: this.node, service: rm.service, method: rm.method, code, ret, durationMs, peer: "" };
    channels.client.publish(ev);
  }

  /** Every served call ends here (network and in-process). */
  server(call: ServerCall, err: GomsError | undefined, startedAt: number): void {
    if (!this.serverActive()) return;
    const durationMs = performance.now() - startedAt;
    const code = err === undefined ? 0 : err.code;
    const ret = err === undefined ? call.ret : err.ret || call.ret;
    for (const r of this.recorders) r.record("server", call.service.typeName, call.method.name, code, ret, durationMs);
    if (!channels.server.hasSubscribers) return;
    const ev: CallEvent = { side: "server", node: this.node, service: call.service.typeName, method: call.method.name, code, ret, durationMs, peer: call.peer.address };
    channels.server.publish(ev);
  }

  /** Reports an in-process call when it settles (network calls are reported by their connection). */
  trace(p: Promise<unknown>, rm: RoutedMethod, started: number, full: boolean): Promise<unknown> {
    return p.then(
      (v) => {
        this.client(rm, 0, full ? (v as CallResult<unknown>).ret : 0, started);
        return v;
      },
      (e: unknown) => {
        const g = GomsError.from(e);
        this.client(rm, g.code, g.ret, started);
        throw g;
      },
    );
  }
}
