/** The subprotocol goms streams speak over a WebSocket; the gateway echoes it, and only it. */
export const WS_PROTOCOL = "goms.v1";
/**
 * Subprotocol prefixes that carry credentials, base64url-encoded, from
 * browsers, which cannot set headers on a WebSocket: a bearer token (what
 * goms/web sends) and an API key. The gateway reads them (gateway/auth.ts).
 */
export const WS_BEARER_PREFIX = "goms.bearer.";
export const WS_API_KEY_PREFIX = "goms.apikey.";
/**
 * The deadline of a WebSocket stream, `goms.timeout.<ms>`: the browser
 * counterpart of the `x-goms-timeout-ms` header, so the nodes behind the
 * gateway stop the stream's work when the caller's deadline passes.
 */
export const WS_TIMEOUT_PREFIX = "goms.timeout.";

/** Where goms/web gets the bearer token of a call: a fixed one, or a function asked before each call (to refresh it). */
export interface TokenSource {
  /** A bearer token sent with every call: `Authorization: Bearer` on fetch, a subprotocol on WebSockets. */
  token?: string | undefined;
  /** Asked before each call for the current token (wins over `token`); undefined or "" sends none. */
  getToken?: (() => string | undefined | Promise<string | undefined>) | undefined;
}

export async function currentToken(src: TokenSource): Promise<string | undefined> {
  const t = src.getToken !== undefined ? await src.getToken() : src.token;
  return t === undefined || t === "" ? undefined : t;
}

/** UTF-8 then base64url without padding, with web APIs only (no Buffer in a browser bundle). */
function base64url(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The subprotocols a WebSocket to the gateway offers: goms.v1, the token
 * as `goms.bearer.<base64url>` and the deadline as `goms.timeout.<ms>`, since
 * browsers cannot set headers on a WebSocket (docs/streams.md "Browser
 * auth"). The gateway reads them as those headers and echoes goms.v1 only.
 */
export function webSocketProtocols(token: string | undefined, timeoutMs?: number): string[] {
  const out = [WS_PROTOCOL];
  if (token !== undefined) out.push(`${WS_BEARER_PREFIX}${base64url(token)}`);
  if (timeoutMs !== undefined && timeoutMs > 0) out.push(`${WS_TIMEOUT_PREFIX}${Math.ceil(timeoutMs)}`);
  return out;
}
