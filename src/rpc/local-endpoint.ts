import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { CallScope } from "../internal/conn/call-scope.js";
import type { PeerInfo } from "../internal/conn/context.js";
import type { Dispatcher, ServerMethod } from "../internal/conn/dispatcher.js";
import { ServerCall } from "../internal/conn/server-call.js";
import { PayloadCodec } from "../internal/wire/frame.js";
import { emptyMetadata } from "../internal/wire/metadata.js";
import type { CallRequest } from "./call-request.js";
import type { StreamCallResult } from "../internal/conn/client-streams.js";
import { LocalStreamIO, own } from "./local-stream.js";

const LOCAL_PEER: PeerInfo = { address: "local", node: undefined, local: true };

/** An in-process call: a ServerCall that settles a promise instead of writing a frame. */
class LocalCall extends ServerCall {
  deadlineTimer: NodeJS.Timeout | undefined = undefined;
  /** A stream's result when the caller asked for it (`full`): ret and metadata are set when it ends cleanly. */
  result: StreamCallResult | undefined = undefined;
  constructor(
    id: number,
    entry: ServerMethod,
    req: CallRequest,
    timeoutMs: number,
    startedAt: number,
    readonly full: boolean,
    readonly raw: boolean,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: GomsError) => void,
  ) {
    super(id, entry.service, entry.method, timeoutMs, req.metadata ?? emptyMetadata(), LOCAL_PEER, req.oneWay, PayloadCodec.Proto, startedAt);
  }
}

/**
 * Serves calls to services this node hosts without the network, through the
 * same CallScope as a connection: admission (concurrency limit, draining),
 * server interceptors, the `ret` rule and reporting are shared.
 *
 * Ownership: a handler never receives the caller's own request object, and the
 * caller never receives the handler's own response object. Both are deep
 * copies (@bufbuild/protobuf `clone`), so either side may keep or mutate what
 * it holds, exactly as across the network. Encoding is skipped; raw calls
 * (protobuf bytes) are decoded and encoded with the method's codecs.
 */
export class LocalEndpoint {
  readonly scope: CallScope<LocalCall>;
  private nextId = 1;

  constructor(
    private readonly d: Dispatcher,
    onIdle: () => void,
  ) {
    this.scope = new CallScope<LocalCall>(d, (call, entry, res, err) => this.answer(call, entry, res, err), onIdle);
  }

  /** Calls being served in-process. */
  get inflight(): number {
    return this.scope.calls.size;
  }

  call(entry: ServerMethod, req: CallRequest, timeoutMs: number, full: boolean): Promise<unknown> {
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(GomsError.from(signal.reason, Code.Canceled));
    const refused = this.scope.refusal();
    if (refused !== undefined) return Promise.reject(refused);
    let input: unknown;
    try {
      input = req.stream !== undefined ? undefined : req.raw ? entry.input.decode(req.message as Uint8Array) : own(entry.method.input, req.message);
    } catch (e) {
      return Promise.reject(new GomsError(`cannot decode ${entry.method.input.typeName}: ${(e as Error).message}`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD", cause: e }));
    }
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    const startedAt = performance.now();
    let call!: LocalCall;
    const p = new Promise<unknown>((resolve, reject) => {
      call = new LocalCall(id, entry, req, timeoutMs, startedAt, full, req.raw, resolve, reject);
    });
    // A stream answers at once with the iterable of responses; its end settles `p`, which only unhooks the listeners.
    const io =
      req.stream === undefined
        ? undefined
        : new LocalStreamIO(
            req.stream,
            entry.method.input,
            entry.method.output,
            req.message,
            () => this.abort(call, entry, new GomsError("stream canceled by the caller", Code.Canceled, { reason: "GOMS_ERR_CANCELED" })),
            this.d.streamCounters,
          );
    call.stream = io;
    if (timeoutMs > 0) {
      call.deadlineTimer = setTimeout(() => this.abort(call, entry, new GomsError(`deadline of ${timeoutMs}ms exceeded`, Code.DeadlineExceeded, { reason: "GOMS_ERR_DEADLINE_EXCEEDED" })), timeoutMs);
    }
    if (signal !== undefined) {
      const onAbort = (): void => this.abort(call, entry, GomsError.from(signal.reason, Code.Canceled));
      signal.addEventListener("abort", onAbort, { once: true });
      void p.then(
        () => signal.removeEventListener("abort", onAbort),
        () => signal.removeEventListener("abort", onAbort),
      );
    }
    this.scope.run(call, entry, input);
    if (io !== undefined) {
      if (!full) return Promise.resolve(io.output);
      call.result = { message: io.output, ret: 0, metadata: {}, ended: io.ended };
      return Promise.resolve(call.result);
    }
    return req.oneWay ? Promise.resolve(undefined) : p;
  }

  /** The caller's deadline passed or its signal aborted: the handler's signal fires and the call settles now. */
  private abort(call: LocalCall, entry: ServerMethod, err: GomsError): void {
    if (call.done) return;
    call.abort(err);
    this.scope.settle(call, entry, undefined, err);
  }

  private answer(call: LocalCall, entry: ServerMethod, res: unknown, err: GomsError | undefined): GomsError | undefined {
    if (call.deadlineTimer !== undefined) clearTimeout(call.deadlineTimer);
    if (call.stream !== undefined) {
      // As from a STREAM_END: set before the caller's iterable says done.
      if (err === undefined && call.result !== undefined) {
        call.result.ret = call.ret;
        call.result.metadata = call.responseMetadataIfSet ?? {};
      }
      (call.stream as LocalStreamIO).finish(err);
      call.resolve(undefined);
      return err;
    }
    if (err === undefined && call.oneWay) {
      // Nobody reads a one-way response (over the network it is never encoded either).
      call.resolve(undefined);
      return undefined;
    }
    if (err === undefined) {
      try {
        const message = own(entry.method.output, res ?? {});
        const value = call.raw ? entry.output.encode(message as never) : message;
        call.resolve(call.full ? { message: value, ret: call.ret, metadata: call.responseMetadataIfSet ?? {} } : value);
        return undefined;
      } catch (e) {
        err = new GomsError(`handler returned an invalid ${entry.method.output.typeName}: ${(e as Error).message}`, Code.Internal, { cause: e });
      }
    }
    // A one-way caller is not waiting: settle its (unobserved) promise without a rejection to handle.
    if (call.oneWay) call.resolve(undefined);
    else call.reject(err);
    return err;
  }
}
