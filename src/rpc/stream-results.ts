import { Code } from "../errors/code.js";
import type { DescMethod } from "@bufbuild/protobuf";
import { GomsError } from "../errors/goms-error.js";
import { gomsError } from "../errors/reasons.js";
import type { StreamCallResult } from "../internal/conn/client-streams.js";
import type { Metadata } from "../internal/conn/context.js";
import { observeStream } from "./stream-observe.js";
import type { CallResult, DetailedStream } from "./types.js";

/**
 * What a caller gets for a stream opened with `full`: the responses, the ret
 * and metadata of its end, set (by the connection or the in-process endpoint)
 * before the responses say done, and `ended`, which reports the end whether or
 * not the responses are read (StreamCallResult).
 */
export type StreamResult = StreamCallResult<AsyncIterable<unknown>>;

/** A client stream's one response: the last message before a clean end. */
export async function single(p: Promise<AsyncIterable<unknown>>): Promise<unknown> {
  let res: unknown;
  for await (const m of await p) res = m;
  if (res === undefined) throw new GomsError("client stream ended without a response", Code.Internal);
  return res;
}

/** A client stream's one response, with the ret and metadata of its end (detailedClient). */
export async function singleDetailed(p: Promise<StreamResult>): Promise<CallResult<unknown>> {
  const r = await p;
  const message = await single(Promise.resolve(r.message));
  return { message, ret: r.ret, metadata: r.metadata };
}

/**
 * The responses of a stream that is still being opened: usable at once in a
 * `for await`; a failure to open surfaces on the first next(). Breaking out
 * (return()) cancels the stream.
 */
export function lazyIterable(p: Promise<AsyncIterable<unknown>>): AsyncIterableIterator<unknown> {
  // Handled here so that a stream nobody iterates does not report an unhandled rejection.
  p.catch(() => undefined);
  let it: AsyncIterator<unknown> | undefined;
  const open = async (): Promise<AsyncIterator<unknown>> => (it ??= (await p)[Symbol.asyncIterator]());
  const first = async (): Promise<IteratorResult<unknown>> => (await open()).next();
  return {
    // Once open, each message is the stream's own next(): no async layer per message on the hot path.
    next: () => (it !== undefined ? it.next() : first()),
    return: async () => {
      const i = await open().catch(() => undefined);
      await i?.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A server or bidi stream for detailedClient: its messages, then its ret and trailer. */
export function detailedStream(p: Promise<StreamResult>): DetailedStream<unknown> {
  let ret = 0;
  let trailer: Metadata = {};
  const messages = lazyIterable(
    p.then((r) =>
      observeStream(
        r.message,
        {
          end: (err) => {
            if (err !== undefined) return;
            ret = r.ret;
            trailer = r.metadata;
          },
        },
        r.ended,
      ),
    ),
  );
  return {
    messages,
    get ret() {
      return ret;
    },
    get trailer() {
      return trailer;
    },
  };
}

/**
 * CallOptions.onTrailer: `p` resolves with a CallResult (unary) or a
 * StreamResult; `onTrailer` hears the end once. Resolves like the call would
 * have (`full`: the result, else its message).
 */
export function withTrailer(p: Promise<unknown>, stream: boolean, full: boolean, onTrailer: (trailer: Metadata, ret: number) => void): Promise<unknown> {
  const failed = (e: unknown): never => {
    const g = GomsError.from(e);
    onTrailer(g.metadata, g.ret);
    throw g;
  };
  return p.then((v) => {
    const r = v as CallResult<unknown>;
    if (!stream) {
      onTrailer(r.metadata, r.ret);
      return full ? r : r.message;
    }
    const messages = observeStream(
      r.message as AsyncIterable<unknown>,
      { end: (err) => (err === undefined ? onTrailer(r.metadata, r.ret) : onTrailer(err.metadata, err.ret)) },
      (r as Partial<StreamResult>).ended,
    );
    if (!full) return messages;
    r.message = messages;
    return r;
  }, failed);
}

/**
 * A one-way client stream: resolves once every request was sent (the stream
 * pulled the end of `requests`, or the handler finished first); rejects if the
 * stream failed before that. The response is read and dropped.
 */
export function sendAll(open: (requests: AsyncIterable<unknown>) => Promise<unknown>, requests: AsyncIterable<unknown>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A failing source fails the stream, and that error comes back through the responses.
    const watched = observeStream(requests, { end: (err) => err === undefined && resolve() });
    void (async () => {
      for await (const _ of (await open(watched)) as AsyncIterable<unknown>);
    })().then(resolve, reject);
  });
}

/** A stream method called through an entry point that cannot carry it (broadcast; one-way server/bidi streams). */
export function unsupported(method: DescMethod, how: string): () => Promise<never> {
  return () => Promise.reject(gomsError("GOMS_ERR_STREAM_UNSUPPORTED", { method: `${method.parent.typeName}/${method.name}`, kind: method.methodKind, how }));
}
