import {
  create,
  fromJson,
  toJsonString,
  type DescMessage,
  type DescMethod,
  type DescService,
  type JsonValue,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { Code, codeFromString } from "../errors/code.js";
import type { ClientMethodShape } from "./client-shape.js";
import { GomsError } from "../errors/goms-error.js";
import { ndjsonEvents, type StreamEvent } from "./ndjson.js";
import { webSocketStream, type WebSocketFactory } from "./ws.js";
import { currentToken, webSocketProtocols, type TokenSource } from "./auth.js";
import { failedEnd, reportEnd, statusEnd, type CallEnd, type TrailerListener } from "./trailer.js";

/** Options of one call from the browser. */
export interface WebCallOptions {
  /** Aborting it cancels the call; for a stream, the server's handler ends (its ctx.signal aborts). */
  signal?: AbortSignal | undefined;
  /** The call's deadline in ms, sent as x-goms-timeout-ms (the gateway clamps it). For a stream it covers the whole stream. */
  timeoutMs?: number | undefined;
  /** Extra request headers (the gateway forwards those it lists in forwardHeaders as metadata). */
  headers?: Record<string, string> | undefined;
  /**
   * Called once when the call ends, however it ends, with the trailing
   * metadata and the application return code (goms/rpc's CallOptions.onTrailer):
   * a unary call's ret is its x-goms-ret header (the gateway sends no response
   * metadata for unary calls: the trailer is {}); a server stream's come from
   * its end event; a client or bidi stream's ret from the WebSocket close (no
   * trailer: it would not fit a close). For an error, the error's ret and
   * metadata; for a stream left early or aborted, {} and 0.
   */
  onTrailer?: TrailerListener | undefined;
}

export interface WebClientOptions extends TokenSource {
  /** Where the gateway is, e.g. "https://api.example.com" or "" for the page's origin. */
  baseUrl: string;
  /** The gateway's route prefix. Default "/api". */
  prefix?: string;
  /** fetch to use (default globalThis.fetch), e.g. one that adds credentials. */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every call; a call's own headers win. Not on WebSockets: browsers cannot set them (use `token` for auth). */
  headers?: Record<string, string>;
  /** WebSocket to use for client and bidi streams (default globalThis.WebSocket; in Node 20, pass `ws`'s). */
  WebSocket?: WebSocketFactory;
}

/** A typed client method: the same shape as goms/rpc's, with the web call options. */
export type WebClientMethodOf<M> = ClientMethodShape<M, WebCallOptions>;

export type WebClient<Desc extends DescService> = {
  [P in keyof Desc["method"]]: WebClientMethodOf<Desc["method"][P]>;
};

/** The gateway's error body (docs/gateway.md "Errors"), or a stream's end event. */
interface StatusBody {
  code?: string;
  message?: string;
  reason?: string;
  ret?: number;
  trailer?: unknown;
}

/** A GomsError from the gateway's JSON status; `fallback` when the body is not one. */
export function statusError(body: unknown, fallback: Code, fallbackMessage: string): GomsError {
  const s = (typeof body === "object" && body !== null ? body : {}) as StatusBody;
  const code = (typeof s.code === "string" ? codeFromString(s.code) : undefined) ?? fallback;
  const end = statusEnd(s);
  const opts: { ret: number; metadata: Record<string, string>; reason?: string } = { ret: end.ret, metadata: end.trailer };
  if (typeof s.reason === "string") opts.reason = s.reason;
  return new GomsError(typeof s.message === "string" ? s.message : fallbackMessage, code, opts);
}

/** An aborted or failed fetch as a GomsError: the signal's reason when it is one, else canceled or unavailable. */
function fetchError(e: unknown, signal: AbortSignal | undefined): GomsError {
  if (signal?.aborted === true) return GomsError.is(signal.reason) ? signal.reason : new GomsError("the call was canceled", Code.Canceled, { cause: e });
  if (GomsError.is(e)) return e;
  return new GomsError(`the gateway could not be reached: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable, { cause: e });
}

/**
 * A typed client for `desc` (protoc-gen-es output) that calls through a goms
 * gateway with fetch: JSON for unary calls, a streamed NDJSON body for server
 * streams, a WebSocket for client and bidi streams. Uses only web APIs (fetch, streams, TextDecoder, AbortController),
 * so it runs in a browser bundle, in Node and in workers. Every failure is a
 * GomsError with the code the gateway sent.
 */
export function createWebClient<Desc extends DescService>(desc: Desc, options: WebClientOptions): WebClient<Desc> {
  // Looked up per call, so that a runtime without fetch (or WebSocket) fails
  // each call the way any failure does: a rejected call (or stream), and
  // onTrailer told once, rather than a throw here or from the method itself.
  const doFetch = (url: string, init: RequestInit): Promise<Response> => {
    const f = options.fetch ?? (globalThis as { fetch?: typeof globalThis.fetch }).fetch;
    if (f === undefined) throw new GomsError("no fetch in this runtime: pass options.fetch", Code.Unimplemented);
    return f.call(globalThis, url, init);
  };
  const base = `${options.baseUrl.replace(/\/+$/, "")}${(options.prefix ?? "/api").replace(/\/+$/, "")}/${desc.typeName}/`;

  const post = async (m: DescMethod, request: unknown, accept: string, o: WebCallOptions | undefined, signal: AbortSignal | undefined): Promise<Response> => {
    const token = await currentToken(options);
    const auth = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const headers: Record<string, string> = { ...options.headers, ...auth, ...o?.headers, "content-type": "application/json", accept };
    if (o?.timeoutMs !== undefined && o.timeoutMs > 0) headers["x-goms-timeout-ms"] = String(Math.ceil(o.timeoutMs));
    const body = toJsonString(m.input, create(m.input, request as MessageInitShape<DescMessage>));
    let res: Response;
    try {
      res = await doFetch(base + m.name, { method: "POST", headers, body, signal: signal ?? null });
    } catch (e) {
      throw fetchError(e, signal);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw statusError(json, Code.Unknown, `HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    return res;
  };

  const decode = (m: DescMethod, json: unknown): unknown => {
    try {
      return fromJson(m.output, json as JsonValue, { ignoreUnknownFields: true });
    } catch (e) {
      throw new GomsError(`invalid ${m.output.typeName} JSON from the gateway: ${e instanceof Error ? e.message : String(e)}`, Code.Internal, { cause: e });
    }
  };

  const unary = async (m: DescMethod, request: unknown, o: WebCallOptions | undefined): Promise<unknown> => {
    let out: { message: unknown; end: CallEnd };
    try {
      const res = await post(m, request, "application/json", o, o?.signal);
      let json: unknown;
      try {
        json = await res.json();
      } catch (e) {
        throw fetchError(e, o?.signal);
      }
      out = { message: decode(m, json), end: { ret: Number(res.headers.get("x-goms-ret") ?? 0) || 0, trailer: {} } };
    } catch (e) {
      const end = failedEnd(e);
      o?.onTrailer?.(end.trailer, end.ret);
      throw e;
    }
    o?.onTrailer?.(out.end.trailer, out.end.ret);
    return out.message;
  };

  async function* serverStream(m: DescMethod, request: unknown, o: WebCallOptions | undefined): AsyncGenerator<unknown, CallEnd> {
    // Our own controller: leaving the loop early must abort the fetch, which ends the stream at the gateway and upstream.
    const ac = new AbortController();
    const outer = o?.signal;
    const onAbort = (): void => ac.abort(outer?.reason);
    if (outer?.aborted === true) onAbort();
    outer?.addEventListener("abort", onAbort);
    let ended = false;
    try {
      const res = await post(m, request, "application/x-ndjson", o, ac.signal);
      if (res.body === null) throw new GomsError("the gateway answered a stream without a body", Code.Internal);
      const events = ndjsonEvents(res.body);
      try {
        for (;;) {
          let r: IteratorResult<StreamEvent>;
          try {
            r = await events.next();
          } catch (e) {
            throw fetchError(e, ac.signal);
          }
          // Lines already read stay unread once the caller aborted: the abort ends the iteration at once.
          if (ac.signal.aborted) throw fetchError(undefined, ac.signal);
          if (r.done === true) throw new GomsError("the stream was cut before its end", Code.Unavailable);
          const ev = r.value;
          if (ev.end !== undefined) {
            ended = true;
            const s = ev.end as StatusBody;
            if (s.code === "ok") return statusEnd(s);
            throw statusError(s, Code.Unknown, "the stream failed");
          }
          yield decode(m, ev.message);
        }
      } finally {
        // Releases the body (cancels the read) when the caller leaves early.
        await events.return(undefined);
      }
    } finally {
      outer?.removeEventListener("abort", onAbort);
      if (!ended) ac.abort(new GomsError("the stream was left early", Code.Canceled));
    }
  }

  /** A generator, so that a missing WebSocket fails the stream's first next() (and reaches onTrailer), as a failed fetch does. */
  async function* socketStream(m: DescMethod, requests: AsyncIterable<unknown>, o: WebCallOptions | undefined): AsyncGenerator<unknown, CallEnd> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (Ctor === undefined) throw new GomsError("no WebSocket in this runtime: pass options.WebSocket", Code.Unimplemented);
    const page = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(base + m.name, page).href.replace(/^http/, "ws");
    const encode = (r: unknown): string => toJsonString(m.input, create(m.input, r as MessageInitShape<DescMessage>));
    const protocols = async (): Promise<string[]> => webSocketProtocols(await currentToken(options), o?.timeoutMs);
    return yield* webSocketStream({ Ctor, url, protocols }, requests, encode, (json) => decode(m, json), o?.signal, o?.timeoutMs);
  }

  const single = async (it: AsyncIterable<unknown>): Promise<unknown> => {
    let res: unknown;
    for await (const r of it) res = r;
    if (res === undefined) throw new GomsError("the client stream ended without a response", Code.Internal);
    return res;
  };

  const out: Record<string, unknown> = {};
  for (const m of desc.methods) {
    switch (m.methodKind) {
      case "unary":
        out[m.localName] = (req: unknown, o?: WebCallOptions) => unary(m, req, o);
        break;
      case "server_streaming":
        out[m.localName] = (req: unknown, o?: WebCallOptions) => reportEnd(serverStream(m, req, o), o?.onTrailer);
        break;
      case "client_streaming":
        out[m.localName] = (reqs: AsyncIterable<unknown>, o?: WebCallOptions) => single(reportEnd(socketStream(m, reqs, o), o?.onTrailer));
        break;
      case "bidi_streaming":
        out[m.localName] = (reqs: AsyncIterable<unknown>, o?: WebCallOptions) => reportEnd(socketStream(m, reqs, o), o?.onTrailer);
        break;
    }
  }
  return out as WebClient<Desc>;
}
