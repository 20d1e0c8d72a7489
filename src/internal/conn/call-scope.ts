import { QUEUED, type Waiter } from "../admission/admission.js";
import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import { CallTable } from "./call-table.js";
import type { Dispatcher, ServerMethod } from "./dispatcher.js";
import type { ServerCall } from "./server-call.js";
import type { Metadata } from "../wire/metadata.js";

/**
 * Where a settled call's outcome goes: a RESPONSE frame for a network call, a
 * promise for an in-process one. Returns the error that was finally reported
 * (an answer that cannot be delivered, such as an unencodable response, turns a
 * success into an error), or undefined.
 */
export type Answer<C extends ServerCall> = (call: C, entry: ServerMethod, res: unknown, err: GomsError | undefined) => GomsError | undefined;

/**
 * The one server invocation path. Every served call, whether it arrived on a
 * connection or was made in-process, is admitted, run and settled here, so the
 * concurrency limit, draining, the `ret` rule, server interceptors (inside
 * `entry.invoke`) and reporting hold for both. A scope is one connection, or
 * the node's in-process endpoint; `maxConcurrentCalls` counts per scope, the
 * adaptive limit of `d.admission` per node.
 */
export class CallScope<C extends ServerCall = ServerCall> {
  readonly calls = new CallTable<C>();
  /** Set when this scope stops taking calls (GOAWAY received or sent, node closing). */
  draining = false;

  constructor(
    private readonly d: Dispatcher,
    private readonly answer: Answer<C>,
    /** Called when the scope is draining and its last call settled. */
    private readonly onIdle: () => void,
  ) {}

  /**
   * The method to run for `path`, or why the call is refused before any handler
   * runs. `stream`: opened as a stream (STREAM_OPEN); a unary method opened as a
   * stream, or a streaming method called with a REQUEST, is refused.
   */
  admit(path: string, stream: boolean): ServerMethod | GomsError {
    if (this.draining || !this.d.accepting) return new GomsError("node is shutting down", Code.Unavailable, { reason: "GOMS_ERR_NODE_DRAINING" });
    const entry = this.d.lookup(path);
    if (entry === undefined) return this.d.missing(path);
    if ((entry.stream !== undefined) !== stream) {
      return new GomsError(`${path} is a ${entry.method.methodKind} method: ${stream ? "call it with a REQUEST" : "open it as a stream"}`, Code.Unimplemented, { reason: "GOMS_ERR_UNKNOWN_METHOD" });
    }
    return this.refusal() ?? entry;
  }

  /** For a method already looked up: why a new call is refused now (draining, limit), or undefined. */
  refusal(): GomsError | undefined {
    if (this.draining || !this.d.accepting) return new GomsError("node is shutting down", Code.Unavailable);
    if (this.calls.size >= this.d.maxConcurrentCalls) {
      return new GomsError(`too many concurrent calls (limit ${this.d.maxConcurrentCalls})`, Code.ResourceExhausted, { reason: "GOMS_ERR_TOO_MANY_CALLS" });
    }
    return undefined;
  }

  /**
   * Runs a call's handler, unless the node's admission refuses it now (over
   * the concurrency limit, or its deadline too close): then it is answered
   * with the refusal, which no handler saw. The outcome is settled (answered,
   * reported) exactly once. Admission is decided here, just before the
   * handler, rather than in admit(): a call that waited behind others in the
   * same read is judged by the time left when its turn comes, and the refusal
   * travels with its metadata (the retry-elsewhere hint) like any answer.
   * A unary call over the limit may wait in the admission queue first; it
   * is in the call table meanwhile, so a cancel or a lost connection ends it
   * there, and it comes back here (its `queuedAt` set) when its turn comes.
   */
  run(call: C, entry: ServerMethod, req: unknown): void {
    const adm = this.d.admission;
    if (adm !== undefined) {
      const now = performance.now();
      const counted = !call.peer.local;
      const queued = call.queuedAt > 0;
      const t = adm.admit(call.method, call.remainingAt(now), counted, now, !queued && counted && entry.stream === undefined, queued ? call.queuedAt : now);
      if (t === QUEUED) {
        call.queuedAt = now;
        this.calls.set(call.id, call);
        adm.wait(new Waiting(this, call, entry, req));
        return;
      }
      if (typeof t !== "number") {
        this.settle(call, entry, undefined, t);
        return;
      }
      call.admitTick = t;
      call.admitAt = now;
    }
    this.calls.set(call.id, call);
    let out: unknown;
    try {
      out = entry.invoke(req, call);
    } catch (err) {
      this.settle(call, entry, undefined, err ?? new Error("handler threw"));
      return;
    }
    if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
      (out as PromiseLike<unknown>).then(
        (res) => this.settle(call, entry, res, undefined),
        (err: unknown) => this.settle(call, entry, undefined, err ?? new Error("handler rejected")),
      );
    } else {
      this.settle(call, entry, out, undefined);
    }
  }

  /**
   * Ends a call with its handler's result, or with an error (the handler's, or
   * a deadline/abort noticed by the caller's side). Later outcomes are ignored.
   */
  settle(call: C, entry: ServerMethod, res: unknown, failure: unknown): void {
    if (call.done) return;
    call.done = true;
    call.clearTimer();
    this.calls.delete(call.id);
    this.released(call, failure === undefined, true);
    const err = failure === undefined ? undefined : withCallRet(GomsError.from(failure), call.ret, call.responseMetadataIfSet);
    const reported = this.answer(call, entry, res, err);
    this.d.finished(call, reported, call.startedAt);
    this.checkIdle();
  }

  /** The caller gave up on call `id`: the handler's signal fires and no answer is sent. */
  cancel(id: number, err: GomsError): void {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.calls.delete(id);
    call.done = true;
    this.released(call, false, false);
    call.abort(err);
    this.d.finished(call, err, call.startedAt);
    this.checkIdle();
  }

  /** Every call in the scope is aborted with `err` (connection lost). */
  abortAll(err: GomsError): void {
    const calls = this.calls.values();
    this.calls.clear();
    for (const c of calls) {
      c.done = true;
      this.released(c, false, false);
      c.abort(err);
      this.d.finished(c, err, c.startedAt);
    }
  }

  /** Tells admission that an admitted call ended (`measured`: its latency says something about the node's speed). */
  private released(call: C, ok: boolean, measured: boolean): void {
    if (call.admitAt <= 0) return;
    const now = performance.now();
    this.d.admission!.release(call.method, call.admitTick, call.admitAt, !call.peer.local, ok, measured, now, call.remainingAt(now));
  }

  drain(): void {
    this.draining = true;
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.draining && this.calls.size === 0) this.onIdle();
  }
}

/** A call in the admission queue: resumed through the scope it arrived in. */
class Waiting<C extends ServerCall> implements Waiter {
  constructor(
    private readonly scope: CallScope<C>,
    private readonly call: C,
    private readonly entry: ServerMethod,
    private readonly req: unknown,
  ) {}

  get gone(): boolean {
    return this.call.done;
  }

  resume(): void {
    this.scope.run(this.call, this.entry, this.req);
  }
}

/**
 * The `ret` rule: an error carries the application return code it was created
 * with, else the one the handler set on its context before failing. It also
 * carries the response metadata the handler set (under its own), so that an
 * in-process caller sees what a network caller gets from the RESPONSE or
 * STREAM_END frame.
 */
export function withCallRet(err: GomsError, ret: number, md?: Metadata): GomsError {
  const addRet = err.ret === 0 && ret !== 0;
  const addMd = md !== undefined && Object.keys(md).length > 0;
  if (!addRet && !addMd) return err;
  const metadata = addMd ? { ...md, ...err.metadata } : err.metadata;
  return new GomsError(err.rawMessage, err.code, { ret: addRet ? ret : err.ret, details: err.details, metadata, cause: err.cause, ...(err.reason !== undefined ? { reason: err.reason } : {}) });
}
