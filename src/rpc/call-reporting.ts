import { GomsError } from "../errors/goms-error.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import type { RoutedMethod } from "./client-method.js";
import { channels, type CallEvent } from "./diagnostics.js";
import { TimingSampler, type TimingPolicy } from "./timing-sampler.js";
import type { CallResult } from "./types.js";

/**
 * A low-overhead, in-process alternative to the diagnostics channels: called
 * synchronously for every finished call, with no event object. The built-in
 * monitor collector uses it (GomsNode#addCallRecorder).
 */
export interface CallRecorder {
  /**
   * One finished call. `weight` is how many calls this one stands for in
   * latency statistics: 1 when every call is timed, N when the method is hot
   * and only one call in N is timed (see NodeOptions.callTiming), 0 when this
   * call was not timed, and then `durationMs` is NaN. Count every call,
   * whatever its weight.
   */
  record(side: "client" | "server", service: string, method: string, code: number, ret: number, durationMs: number, weight: number): void;
}

/**
 * Where a node's finished calls go: its recorders, then goms:rpc:client /
 * goms:rpc:server when those channels have subscribers.
 */
export class CallReporter {
  readonly recorders: CallRecorder[] = [];
  /** Per method (RoutedMethod for calls made, DescMethod for calls served). */
  private readonly samplers = new Map<object, TimingSampler>();
  constructor(
    private readonly node: string,
    private readonly timing: TimingPolicy,
  ) {}

  /** Adds a recorder; returns its remover. */
  add(recorder: CallRecorder): () => void {
    this.recorders.push(recorder);
    return () => {
      const i = this.recorders.indexOf(recorder);
      if (i >= 0) this.recorders.splice(i, 1);
    };
  }

  /**
   * Weight of a call about to be reported for `key`'s method: 0 = don't time
   * it. Channel subscribers get a duration for every call, so with any
   * subscriber every call is timed.
   */
  weight(key: object, channelSubscribed: boolean): number {
    if (channelSubscribed || this.timing.every === 1) return 1;
    let s = this.samplers.get(key);
    if (s === undefined) this.samplers.set(key, (s = new TimingSampler(this.timing)));
    return s.next();
  }

  private sampled(key: object, now: number): void {
    this.samplers.get(key)?.timed(now);
  }

  /** For a call about to be made: -1 = nobody listens, else its weight (0 = count only). */
  clientWeight(rm: RoutedMethod): number {
    if (this.recorders.length === 0) return channels.client.hasSubscribers ? 1 : -1;
    return this.weight(rm, channels.client.hasSubscribers);
  }

  /** True when anything listens to client calls (so timing them is worth it). */
  clientActive(): boolean {
    return this.recorders.length > 0 || channels.client.hasSubscribers;
  }

  serverActive(): boolean {
    return this.recorders.length > 0 || channels.server.hasSubscribers;
  }

  client(rm: RoutedMethod, code: number, ret: number, started: number, weight = 1): void {
    let durationMs = NaN;
    if (weight > 0) {
      const now = performance.now();
      durationMs = now - started;
      if (this.samplers.size > 0) this.sampled(rm, now);
    }
    for (const r of this.recorders) r.record("client", rm.service, rm.method, code, ret, durationMs, weight);
    if (!channels.client.hasSubscribers) return;
    const ev: CallEvent = { side: "client", node: this.node, service: rm.service, method: rm.method, code, ret, durationMs, peer: "" };
    channels.client.publish(ev);
  }

  /** Every served call ends here (network and in-process). */
  server(call: ServerCall, err: GomsError | undefined, startedAt: number): void {
    if (!this.serverActive()) return;
    const weight = this.weight(call.method, channels.server.hasSubscribers);
    let durationMs = NaN;
    if (weight > 0) {
      const now = performance.now();
      durationMs = now - startedAt;
      if (this.samplers.size > 0) this.sampled(call.method, now);
    }
    const code = err === undefined ? 0 : err.code;
    const ret = err === undefined ? call.ret : err.ret || call.ret;
    for (const r of this.recorders) r.record("server", call.service.typeName, call.method.name, code, ret, durationMs, weight);
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
