import type { GomsError } from "../../errors/goms-error.js";
import type { Metadata } from "../wire/metadata.js";
import type { PayloadDecoder, PayloadEncoder } from "./payload.js";
import type { SignalWatch, SignalMember } from "./signal-watch.js";
import type { StreamKind } from "./stream-driver.js";

/** A method as the client side sees it: its wire path and payload codecs. */
export interface ClientMethod {
  /** "pkg.Service/Method", ASCII. */
  readonly path: Buffer;
  readonly req: PayloadEncoder;
  readonly res: PayloadDecoder;
}

/**
 * One call as a connection sends it. The rpc layer's call object implements
 * this, so the object a client creates is the one the connection encodes from:
 * no per-layer copies of the call's parameters.
 */
export interface OutgoingCall {
  /** Wire path and payload codecs. */
  readonly route: ClientMethod;
  /** The request: a message, an init shape, or bytes for raw calls (as `route.req` expects). */
  readonly message: unknown;
  readonly metadata: Metadata | undefined;
  readonly signal: AbortSignal | undefined;
  /** No response: the call resolves once its frame is queued. */
  readonly oneWay: boolean;
  /**
   * Undefined for a unary call. For a stream, its kind: `message` is then the
   * one request (server streaming) or an iterable of requests, and the call
   * resolves with the iterable of responses.
   */
  readonly stream: StreamKind | undefined;
}

/** The outcome of a call with everything that came back beside the message. */
export interface CallResult<T = unknown> {
  message: T;
  /** Application return code set by the handler (ctx.ret). */
  ret: number;
  /** Response metadata. */
  metadata: Metadata;
}

/** Told about every call a connection settles, for diagnostics. */
export interface CallObserver {
  /** Before a call: -1 = nobody listens, 0 = count it without timing, N > 0 = time it (it stands for N calls). */
  weight(m: ClientMethod): number;
  settled(m: ClientMethod, code: number, ret: number, startedAt: number, weight: number): void;
}

/**
 * One call waiting for its response. `Pending.start` makes the call's promise
 * with a Promise executor shared by every call, so no closure is allocated
 * per call.
 */
export class Pending implements SignalMember {
  private readonly resolve: (v: unknown) => void;
  private readonly reject: (e: GomsError) => void;
  /** What the caller awaits. */
  readonly promise: Promise<unknown>;
  readonly m: ClientMethod;
  /** performance.now() at the call when it is timed. */
  startedAt = 0;
  /** The observer's weight for this call; -1 when not observed. */
  weight = -1;
  observer: CallObserver | undefined = undefined;
  /** performance.now()-based deadline; Infinity when none. */
  deadline = Infinity;
  timeoutMs = 0;
  /** Call id, for cancellation through a SignalWatch. */
  id = 0;
  watch: SignalWatch | undefined = undefined;
  wPrev: SignalMember | undefined = undefined;
  wNext: SignalMember | undefined = undefined;
  readonly res: PayloadDecoder;
  /** Resolve with the whole CallResult, not just the message. */
  readonly full: boolean;
  static start(m: ClientMethod, full: boolean): Pending {
    const promise = new Promise<unknown>(capture);
    const p = new Pending(m, full, promise, captured.resolve!, captured.reject!);
    captured.resolve = captured.reject = undefined;
    return p;
  }
  private constructor(m: ClientMethod, full: boolean, promise: Promise<unknown>, resolve: (v: unknown) => void, reject: (e: GomsError) => void) {
    this.m = m;
    this.res = m.res;
    this.full = full;
    this.promise = promise;
    this.resolve = resolve;
    this.reject = reject;
  }
  cleanup(): void {
    if (this.watch !== undefined) this.watch.leave(this);
  }
  ok(value: unknown, ret: number): void {
    if (this.weight >= 0) this.observer!.settled(this.m, 0, ret, this.startedAt, this.weight);
    this.resolve(value);
  }
  fail(err: GomsError): void {
    if (this.weight >= 0) this.observer!.settled(this.m, err.code, err.ret, this.startedAt, this.weight);
    this.reject(err);
  }
}

/** Where `capture`, the Promise executor shared by every call, leaves its resolve/reject. */
const captured: { resolve: ((v: unknown) => void) | undefined; reject: ((e: GomsError) => void) | undefined } = { resolve: undefined, reject: undefined };
function capture(resolve: (v: unknown) => void, reject: (e: GomsError) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

