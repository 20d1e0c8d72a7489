import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import type { CallOptions } from "./types.js";

type Call = (method: DescMethod, request: unknown, options: CallOptions | undefined) => Promise<unknown>;

/**
 * Builds an object with one function per method, each forwarding to `call`.
 * With `streams`, streaming methods get theirs too (see ClientMethodOf); the
 * detailed, one-way and broadcast clients cover unary methods only.
 */
export function makeClients(desc: DescService, call: Call, streams = false): Record<string, (request: unknown, options?: CallOptions) => unknown> {
  const out: Record<string, (request: unknown, options?: CallOptions) => unknown> = {};
  for (const m of desc.methods) {
    if (m.methodKind === "unary") out[m.localName] = (request, options) => call(m, request, options);
    else if (!streams) continue;
    else if (m.methodKind === "client_streaming") out[m.localName] = (requests, options) => single(call(m, requests, options) as Promise<AsyncIterable<unknown>>);
    else out[m.localName] = (request, options) => lazyIterable(call(m, request, options) as Promise<AsyncIterable<unknown>>);
  }
  return out;
}

/** A client stream's one response: the last message before a clean end. */
async function single(p: Promise<AsyncIterable<unknown>>): Promise<unknown> {
  let res: unknown;
  for await (const m of await p) res = m;
  if (res === undefined) throw new GomsError("client stream ended without a response", Code.Internal);
  return res;
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
  return {
    next: async () => (await open()).next(),
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
