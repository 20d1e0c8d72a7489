import { Code } from "../../errors/code.js";
import { GomsError } from "../../errors/goms-error.js";
import type { ServerCall } from "./server-call.js";
import { SENT } from "./stream-flow.js";

/** The kinds of streaming method, as protoc-gen-es names them (`DescMethod.methodKind`). */
export type StreamKind = "server_streaming" | "client_streaming" | "bidi_streaming";

/**
 * A served stream's two directions, whatever carries them: a connection
 * (frames and credit windows) or the in-process endpoint (bounded queues).
 */
export interface StreamIO {
  readonly kind: StreamKind;
  /** The caller's messages, decoded (a server stream gets exactly one). */
  readonly input: AsyncIterableIterator<unknown>;
  /** Sends one response message; resolves once the window took it, rejects once the stream is over. */
  send(message: unknown): Promise<void>;
  /** The call ended early (cancel, deadline, connection lost): pending and later sends reject, input fails. */
  stop(err: GomsError): void;
}

/** A handler below the server interceptors, as ServiceTable composes it. */
export type StreamHandler = (input: unknown, call: ServerCall) => unknown;

/**
 * Runs a streaming handler against `call.stream`. The handler gets the one
 * request (server streaming) or the request iterable; what it yields (or, for
 * client streaming, returns) is sent message by message, each send waiting for
 * window. When a send fails because the stream ended early, the iterator's
 * return() is called (as leaving a `for await` would): a generator's `finally`
 * blocks run. Resolves when the handler is done; CallScope settles the call
 * (STREAM_END).
 */
export async function driveStream(handler: StreamHandler, call: ServerCall): Promise<undefined> {
  const io = call.stream!;
  let input: unknown = io.input;
  if (io.kind === "server_streaming") {
    const first = await io.input.next();
    if (first.done === true) throw new GomsError("server stream opened without its request message", Code.InvalidArgument, { reason: "GOMS_ERR_BAD_PAYLOAD" });
    input = first.value;
  }
  const out = await handler(input, call);
  if (io.kind === "client_streaming") {
    await io.send(out ?? {});
    return undefined;
  }
  if (out !== null && typeof out === "object") {
    if (Symbol.asyncIterator in out) return pumpAsync((out as AsyncIterable<unknown>)[Symbol.asyncIterator](), io);
    if (Symbol.iterator in out) return pumpSync((out as Iterable<unknown>)[Symbol.iterator](), io);
  }
  throw new GomsError(`${call.method.name} handler must return or yield an iterable`, Code.Internal);
}

/**
 * Sends what an async iterator yields. What `for await` does, with promise
 * callbacks instead of an async function: per message one next() and, when
 * the connection took the message at once (SENT), nothing else.
 */
function pumpAsync(it: AsyncIterator<unknown>, io: StreamIO): Promise<undefined> {
  return new Promise<undefined>((resolve, reject) => {
    const pull = (): void => {
      try {
        // Promise.resolve: an iterator whose next() returns a plain result works too (a native promise passes as is).
        void Promise.resolve(it.next()).then(onNext, reject);
      } catch (err) {
        reject(err);
      }
    };
    const closeWith = (err: unknown): void => {
      // As a `for await` left by a throw: the iterator is closed, and the send's error wins over return()'s.
      let closing: unknown;
      try {
        closing = it.return?.();
      } catch {
        reject(err);
        return;
      }
      Promise.resolve(closing).then(
        () => reject(err),
        () => reject(err),
      );
    };
    const onNext = (r: IteratorResult<unknown>): void => {
      if (r.done === true) return resolve(undefined);
      let sent: Promise<void>;
      try {
        sent = io.send(r.value);
      } catch (err) {
        return closeWith(err);
      }
      if (sent === SENT) pull();
      else sent.then(pull, closeWith);
    };
    pull();
  });
}

/** Sends what a sync iterator (an array, a generator) yields: while the connection takes them at once, in one go. */
async function pumpSync(it: Iterator<unknown>, io: StreamIO): Promise<undefined> {
  for (;;) {
    const r = it.next();
    if (r.done === true) return undefined;
    try {
      // As `for await` over a sync iterable: a yielded promise is awaited first.
      const v: unknown = r.value;
      const m = v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function" ? await v : v;
      const sent = io.send(m);
      if (sent !== SENT) await sent;
    } catch (err) {
      try {
        it.return?.();
      } catch {
        // The send's error wins.
      }
      throw err;
    }
  }
}
