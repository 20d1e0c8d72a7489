import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { Code, GomsError } from "../errors/index.js";
import type { Metadata } from "../rpc/index.js";

/** What a metadata key may look like (forwarded headers, query parameters). */
export const METADATA_KEY = /^[a-z0-9_.-]{1,255}$/;

/**
 * The prefix of the metadata goms itself passes between nodes: hints between
 * hops (x-goms-retry, the retry-elsewhere hint of a refusal) and what the
 * gateway tells a handler (x-goms-gateway, x-goms-sub). It is not the
 * handler's to give its HTTP caller, and a refusal's hint means nothing past
 * the gateway, which already did any retrying.
 */
export const INTERNAL_METADATA_PREFIX = "x-goms-";

/** `md` as relayed to an HTTP client: without goms' internal keys (INTERNAL_METADATA_PREFIX). */
export function relayedMetadata(md: Readonly<Metadata>): Metadata {
  const out: Metadata = {};
  for (const k of Object.keys(md)) if (!k.startsWith(INTERNAL_METADATA_PREFIX)) out[k] = md[k]!;
  return out;
}

/**
 * The RPC metadata of a gateway request: the forwarded headers, the query
 * parameters ("q.<name>"), then what the gateway sets itself, last, so that
 * clients cannot forge it through forwarded headers: x-client-ip,
 * x-goms-gateway and x-goms-sub (the authenticated subject, or absent).
 */
export function requestMetadata(req: IncomingMessage, forward: readonly string[], query: string, ip: string, gateway: string, sub: string | undefined): Metadata {
  const md: Metadata = {};
  for (const h of forward) {
    const v = req.headers[h];
    if (v !== undefined) md[h] = Array.isArray(v) ? v.join(", ") : v;
  }
  if (query !== "") addQuery(md, query);
  md["x-client-ip"] = ip;
  md["x-goms-gateway"] = gateway;
  if (sub !== undefined) md["x-goms-sub"] = sub;
  else delete md["x-goms-sub"];
  return md;
}

/** Query parameters become metadata "q.<name>" (lower-cased); repeated ones are joined with ",". */
function addQuery(md: Metadata, query: string): void {
  for (const [k, v] of new URLSearchParams(query)) {
    const key = `q.${k.toLowerCase()}`;
    if (!METADATA_KEY.test(key)) throw new GomsError(`query parameter name ${JSON.stringify(k)} is not allowed (use [A-Za-z0-9_.-])`, Code.InvalidArgument, { reason: "GOMS_ERR_BAD_FIELD" });
    md[key] = md[key] === undefined ? v : `${md[key]},${v}`;
  }
}

const socketSignals = new WeakMap<Socket, AbortSignal>();

/**
 * Aborted when the client's connection closes. HTTP/1.1 runs one request at a
 * time per connection, so one signal per socket cancels whatever call the
 * connection is waiting for (cheaper than an AbortController per request).
 */
export function socketSignal(socket: Socket): AbortSignal {
  let s = socketSignals.get(socket);
  if (s === undefined) {
    const ac = new AbortController();
    s = ac.signal;
    socketSignals.set(socket, s);
    socket.once("close", () => ac.abort(new GomsError("the HTTP client went away", Code.Canceled, { reason: "GOMS_ERR_CLIENT_GONE" })));
  }
  return s;
}
