import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { Caller } from "./caller.js";
import { routedMethod } from "./client-method.js";
import { detailedStream, lazyIterable, sendAll, single, singleDetailed, unsupported, type StreamResult } from "./stream-results.js";
import type { CallOptions } from "./types.js";

type MethodFn = (request: unknown, options?: CallOptions) => unknown;

/** Builds an object with one function per method of `desc`, made by `make` (undefined: no such function). */
function build(desc: DescService, make: (m: DescMethod) => MethodFn | undefined): Record<string, MethodFn> {
  const out: Record<string, MethodFn> = {};
  for (const m of desc.methods) {
    const fn = make(m);
    if (fn !== undefined) out[m.localName] = fn;
  }
  return out;
}

/**
 * The typed clients of a node (Client, DetailedClient, OneWayClient): one
 * function per method, each a call through the one pipeline (Caller). Their
 * types are in types.ts; docs/streams.md says which kinds each one carries.
 */
export class Clients {
  constructor(private readonly caller: Caller) {}

  /** Unary: the response; client stream: its one response; server and bidi streams: the responses. */
  plain(desc: DescService): Record<string, MethodFn> {
    return build(desc, (m) => {
      const rm = routedMethod(m);
      if (m.methodKind === "unary") return (req, o) => this.caller.call(rm, req, o, false, false);
      if (m.methodKind === "client_streaming") return (reqs, o) => single(this.caller.call(rm, reqs, o, false, false) as Promise<AsyncIterable<unknown>>);
      return (req, o) => lazyIterable(this.caller.call(rm, req, o, false, false) as Promise<AsyncIterable<unknown>>);
    });
  }

  /** Like plain(), with ret and response (for streams: trailing) metadata. */
  detailed(desc: DescService): Record<string, MethodFn> {
    return build(desc, (m) => {
      const rm = routedMethod(m);
      if (m.methodKind === "unary") return (req, o) => this.caller.call(rm, req, o, false, true);
      if (m.methodKind === "client_streaming") return (reqs, o) => singleDetailed(this.caller.call(rm, reqs, o, false, true) as Promise<StreamResult>);
      return (req, o) => detailedStream(this.caller.call(rm, req, o, false, true) as Promise<StreamResult>);
    });
  }

  /**
   * One-way: unary calls resolve once sent; a client stream once every request
   * was sent (its response is dropped). A server or bidi stream is all about
   * its responses, so it has no one-way form: it rejects.
   */
  oneWay(desc: DescService): Record<string, MethodFn> {
    return build(desc, (m) => {
      const rm = routedMethod(m);
      if (m.methodKind === "unary") return (req, o) => this.caller.call(rm, req, o, true, false);
      if (m.methodKind === "client_streaming") return (reqs, o) => sendAll((watched) => this.caller.call(rm, watched, o, false, false), reqs as AsyncIterable<unknown>);
      return unsupported(m, "a one-way sender");
    });
  }

  /** Unary methods call `unary`; stream methods reject (a broadcast merges answers, not streams). */
  broadcast(desc: DescService, unary: (m: DescMethod, request: unknown, options: CallOptions | undefined) => Promise<unknown>): Record<string, MethodFn> {
    return build(desc, (m) => (m.methodKind === "unary" ? (req, o) => unary(m, req, o) : unsupported(m, "broadcast")));
  }
}
