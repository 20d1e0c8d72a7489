import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Message } from "@bufbuild/protobuf";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { Code, GomsError, gomsError } from "../errors/index.js";
import { AsyncQueue } from "../internal/util/async-queue.js";
import type { Metadata } from "../rpc/index.js";
import type { Route } from "../json-call/index.js";
import { streamEnd, type StreamDeps } from "./server-stream.js";
import { WS_PROTOCOL, WS_TIMEOUT_PREFIX } from "../web/auth.js";

/** A request that asked for a WebSocket: its socket and the bytes read past its headers. */
export interface Upgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** Requests read from the client while upstream has not taken them; past it the socket is paused. */
const PAUSE_AT = 8;
/** Close codes: 1000 for a stream that ended well, 4000 + the goms code for one that failed. */
const CLOSE_OK = 1000;
const CLOSE_ERROR_BASE = 4000;
/** A WebSocket close reason is at most 123 bytes. */
const MAX_REASON = 123;

/**
 * The deadline a browser offered as a `goms.timeout.<ms>` subprotocol on a
 * WebSocket upgrade (it cannot send x-goms-timeout-ms); undefined for other
 * requests. The value is checked like the header's.
 */
export function offeredTimeout(h: IncomingHttpHeaders): string | undefined {
  const offer = h["sec-websocket-protocol"];
  if (offer === undefined || h.upgrade?.toLowerCase() !== "websocket") return undefined;
  for (const raw of offer.split(",")) {
    const p = raw.trim();
    if (p.startsWith(WS_TIMEOUT_PREFIX)) return p.slice(WS_TIMEOUT_PREFIX.length);
  }
  return undefined;
}

const servers = new WeakMap<StreamDeps, WebSocketServer>();

/**
 * The status as a close reason: streamEnd() without the trailer, its message
 * shortened to fit. A clean end carries its ret too. Trailing metadata is not
 * sent: a close reason is at most 123 bytes, which a trailer would rarely fit,
 * and a status that sometimes has it would be worse than one that never does.
 */
export function closeReason(e: GomsError | undefined, ret = 0): string {
  const body = streamEnd(e, ret, {});
  let text = JSON.stringify(body);
  while (Buffer.byteLength(text) > MAX_REASON && body.message.length > 0) {
    body.message = body.message.slice(0, Math.max(0, body.message.length - Math.max(1, Buffer.byteLength(text) - MAX_REASON)));
    text = JSON.stringify(body);
  }
  // Still too long (a long reason or details): the code and ret alone always fit.
  return Buffer.byteLength(text) <= MAX_REASON ? text : JSON.stringify(body.ret === undefined ? { code: body.code, message: "" } : { code: body.code, message: "", ret: body.ret });
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

/**
 * A client-streaming or bidi call over a WebSocket (docs/gateway.md
 * "WebSocket streams"). Each text message from the client is one request in
 * proto3 JSON; an empty message is the half-close. Each response goes out as
 * one message; the close carries the status (1000, or 4000 + code, with the
 * JSON status as reason, closeReason()). Back-pressure both ways: the socket
 * stops being read while PAUSE_AT requests wait for upstream, and the next response is
 * taken from upstream only once the previous one was written to the socket.
 * A message over maxBodyBytes closes the socket with 1009 (ws). The socket
 * closing cancels the call upstream.
 */
export function serveWebSocket(d: StreamDeps, req: IncomingMessage, up: Upgrade, route: Route, md: Metadata, timeoutMs: number): void {
  let wss = servers.get(d);
  if (wss === undefined) {
    // Only goms.v1 is ever echoed: the other subprotocols a browser offers may carry its credentials (auth.ts),
    // and ws would otherwise echo the first one offered. A client that offers none gets none.
    const handleProtocols = (offered: Set<string>): string | false => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false);
    servers.set(d, (wss = new WebSocketServer({ noServer: true, maxPayload: d.maxMessageBytes, perMessageDeflate: false, handleProtocols })));
  }
  wss.handleUpgrade(req, up.socket, up.head, (ws) => run(d, ws, route, md, timeoutMs));
}

function run(d: StreamDeps, ws: WebSocket, route: Route, md: Metadata, timeoutMs: number): void {
  const ac = new AbortController();
  const requests = new AsyncQueue<Message>({ onDrain: () => ws.resume() });
  let closed = false;
  const close = (e: GomsError | undefined, ret = 0): void => {
    if (closed) return;
    closed = true;
    requests.stop();
    // A paused socket would never read the client's half of the close handshake.
    ws.resume();
    ws.close(e === undefined ? CLOSE_OK : CLOSE_ERROR_BASE + e.code, closeReason(e, ret));
  };
  ws.on("message", (data, isBinary) => {
    if (requests.closed) {
      if (!closed) close(new GomsError("a message after the half-close", Code.InvalidArgument, { reason: "GOMS_ERR_BAD_JSON" }));
      return;
    }
    const t = isBinary ? null : text(data);
    if (t === "") {
      requests.end();
      // The queue no longer drains into onDrain once ended: reading goes on (for the close, or a stray message).
      ws.resume();
      return;
    }
    try {
      if (t === null) throw new GomsError("binary WebSocket messages are not accepted; send proto3 JSON as text", Code.InvalidArgument, { reason: "GOMS_ERR_UNSUPPORTED_MEDIA_TYPE" });
      requests.push(d.json.request(route, t));
    } catch (e) {
      ac.abort(e);
      close(GomsError.from(e));
      return;
    }
    if (requests.length >= PAUSE_AT) ws.pause();
  });
  ws.on("error", () => undefined); // "close" follows
  ws.on("close", () => {
    closed = true;
    requests.stop();
    ac.abort(gomsError("GOMS_ERR_CLIENT_GONE", { why: "the WebSocket closed" }));
  });
  const send = (json: string): Promise<void> => new Promise((resolve, reject) => ws.send(json, (err) => (err ? reject(err) : resolve())));
  void (async () => {
    try {
      const open = await d.node.invoke(route.method, requests, { timeoutMs, metadata: md, signal: ac.signal });
      for await (const m of open.message as AsyncIterable<Message>) {
        if (closed) return;
        await send(d.json.response(route, m));
      }
      // Set before the responses said done.
      close(undefined, open.ret);
    } catch (e) {
      close(GomsError.from(e));
    }
  })();
}
