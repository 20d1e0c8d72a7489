import type { IncomingMessage, ServerResponse } from "node:http";
import type { Message } from "@bufbuild/protobuf";
import { GomsError, gomsError } from "../errors/index.js";
import { errorBody, type ErrorBody } from "../internal/http/json.js";
import { SseStream, type SseLimits, type StreamFormat } from "../internal/http/sse.js";
import type { CallResult, GomsNode, Metadata } from "../rpc/index.js";
import type { JsonCaller, Route } from "../json-call/index.js";
import { relayedMetadata } from "./request.js";
import type { GatewayTracing } from "./tracing.js";

/** What the gateway's stream paths need from it. */
export interface StreamDeps {
  readonly node: GomsNode;
  readonly json: JsonCaller;
  readonly tracing: GatewayTracing;
  readonly limits: Required<SseLimits>;
  /** Largest WebSocket message (the gateway's maxBodyBytes). */
  readonly maxMessageBytes: number;
  /** Answers an error before the stream opened (the gateway's usual JSON error). */
  fail(res: ServerResponse, e: unknown, route: Route): void;
}

/** Opens a server stream and relays it (relayServerStream); a failure to open is a plain JSON error. */
export function serveServerStream(d: StreamDeps, req: IncomingMessage, res: ServerResponse, route: Route, md: Metadata, timeoutMs: number, message: Message): void {
  // One controller per stream (not the socket's signal): the response may end while the connection stays open.
  const ac = new AbortController();
  const cancel = (): void => ac.abort(gomsError("GOMS_ERR_CLIENT_GONE", { why: "the stream's response closed" }));
  res.once("close", cancel);
  const span = d.tracing.start(req, route, md);
  const opts = { timeoutMs, metadata: md, signal: ac.signal };
  span.run(() => d.node.invoke(route.method, message, opts)).then(
    (open) => {
      relayServerStream(res, streamFormat(req), d.limits, open, (m) => d.json.response(route, m), cancel).then(
        () => span.end(200, undefined),
        (e: unknown) => span.end(0, e),
      );
    },
    (e: unknown) => {
      span.end(0, e);
      if (!ac.signal.aborted) d.fail(res, e, route);
    },
  );
}

/** A stream's final status (the `end` event, the WebSocket close reason): errorBody() or ok, plus the end's trailing metadata. */
export interface StreamEnd extends ErrorBody {
  trailer?: Metadata;
}

/**
 * The status a stream ended with: `{code, message, reason?, ret?, details?,
 * trailer?}`, `ret` and `trailer` only when non-zero / non-empty. A clean end
 * (`e` undefined) passes the handler's ctx.ret and ctx.responseMetadata; a
 * failure passes its metadata, and its ret is the error's (`ret` unused). Trailing metadata is what the handler chose to send
 * its caller, and the gateway relays a stream for that caller, so every key
 * goes through but goms' own (x-goms-*, relayedMetadata(); docs/gateway.md "Streams").
 */
export function streamEnd(e: GomsError | undefined, ret: number, trailer: Readonly<Metadata>): StreamEnd {
  const body: StreamEnd = e === undefined ? { code: "ok", message: "" } : errorBody(e);
  if (e === undefined && ret !== 0) body.ret = ret;
  const relayed = relayedMetadata(trailer);
  if (Object.keys(relayed).length > 0) body.trailer = relayed;
  return body;
}

/** "ndjson" when the client asks for application/x-ndjson, else SSE. */
export function streamFormat(req: IncomingMessage): StreamFormat {
  const accept = req.headers.accept;
  return accept !== undefined && /\bapplication\/x-ndjson\b/i.test(accept) ? "ndjson" : "sse";
}

/**
 * Relays an open server stream to the HTTP client: one `message` event per
 * response (proto3 JSON), then one `end` event with the status and the
 * end's ret and trailing metadata (streamEnd()). The next response is pulled
 * from upstream only once the client has taken the previous one (SseStream.writable()), so a
 * client that stops reading leaves the upstream stream's window full and its
 * producer suspended; what the gateway holds is one event plus node:http's
 * buffer. A client that goes away aborts `cancel`, which cancels upstream.
 */
export async function relayServerStream(
  res: ServerResponse,
  format: StreamFormat,
  limits: SseLimits,
  open: CallResult<unknown>,
  toJson: (m: Message) => string,
  cancel: () => void,
): Promise<void> {
  const it = (open.message as AsyncIterable<Message>)[Symbol.asyncIterator]();
  const out = new SseStream(res, limits, {}, format);
  out.onClose((why) => {
    if (why !== "ended") cancel();
  });
  try {
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      if (!out.sendJson("message", toJson(r.value)) || !(await out.writable())) return;
    }
    // The end's ret and trailer were set before the responses said done.
    out.end({ name: "end", data: streamEnd(undefined, open.ret, open.metadata) });
  } catch (e) {
    // The stream failed upstream (or its deadline passed): the status goes in the last event, the HTTP status was 200 already.
    const g = GomsError.from(e);
    out.end({ name: "end", data: streamEnd(g, 0, g.metadata) });
  }
}
