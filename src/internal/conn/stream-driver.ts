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
 * window. When a send fails because the stream ended early, leaving the
 * `for await` calls the generator's return(): its `finally` blocks run.
 * Resolves when the handler is done; CallScope settles the call (STREAM_END).
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
  if (out === null || typeof out !== "object" || !(Symbol.asyncIterator in out || Symbol.iterator in out)) {
    throw new GomsError(`${call.method.name} handler must return or yield an iterable`, Code.Internal);
  }
  for await (const m of out as AsyncIterable<unknown>) {
    // A message the connection took at once (SENT) needs no extra turn of the microtask queue.
    const sent = io.send(m);
    if (sent !== SENT) await sent;
  }
  return undefined;
}
