import { create, isMessage } from "@bufbuild/protobuf";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { ServerMethod } from "../internal/conn/dispatcher.js";
import { ServerCall } from "../internal/conn/server-call.js";
import { PayloadCodec } from "../internal/wire/frame.js";
import { emptyMetadata, type Metadata } from "../internal/wire/metadata.js";
import type { PeerInfo } from "./context.js";

/**
 * Runs a hosted method in-process: no encoding, no network. The request object
 * is handed to the handler as is (filled with defaults if it is an init shape),
 * so handlers must not rely on owning it.
 */
export function callLocal(
  entry: ServerMethod,
  value: unknown,
  timeoutMs: number,
  metadata: Metadata | undefined,
  signal: AbortSignal | undefined,
  full: boolean,
  peer: PeerInfo,
  done: (call: ServerCall, err: GomsError | undefined, startedAt: number) => void,
): Promise<unknown> {
  const { method } = entry;
  if (signal?.aborted) return Promise.reject(GomsError.from(signal.reason, Code.Canceled));
  const startedAt = performance.now();
  const req = isMessage(value, method.input) ? value : create(method.input, value as never);
  const call = new ServerCall(0, entry.service, method, timeoutMs, metadata ?? emptyMetadata(), peer, false, PayloadCodec.Proto, startedAt);
  return new Promise<unknown>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: GomsError | undefined): boolean => {
      if (call.done) return false;
      call.done = true;
      call.clearTimer();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      done(call, err, startedAt);
      return true;
    };
    const fail = (e: unknown): void => {
      let err = GomsError.from(e);
      if (err.ret === 0 && call.ret !== 0) {
        err = new GomsError(err.rawMessage, err.code, { ret: call.ret, details: err.details, metadata: err.metadata, cause: err.cause });
      }
      if (finish(err)) reject(err);
    };
    const onAbort = (): void => {
      const err = GomsError.from(signal!.reason, Code.Canceled);
      call.abort(err);
      fail(err);
    };
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = new GomsError(`deadline of ${timeoutMs}ms exceeded`, Code.DeadlineExceeded);
        call.abort(err);
        fail(err);
      }, timeoutMs);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    const ok = (res: unknown): void => {
      let message: unknown;
      try {
        message = isMessage(res, method.output) ? res : create(method.output, (res ?? {}) as never);
      } catch (e) {
        fail(new GomsError(`handler returned an invalid ${method.output.typeName}: ${(e as Error).message}`, Code.Internal, { cause: e }));
        return;
      }
      if (!finish(undefined)) return;
      resolve(full ? { message, ret: call.ret, metadata: call.responseMetadataIfSet ?? {} } : message);
    };
    let out: unknown;
    try {
      out = entry.invoke(req, call);
    } catch (e) {
      fail(e);
      return;
    }
    if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
      (out as PromiseLike<unknown>).then(ok, fail);
    } else ok(out);
  });
}
