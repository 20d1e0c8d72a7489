import type { IncomingMessage, ServerResponse } from "node:http";
import type { CorsOptions } from "./options.js";

export type CorsVerdict = "none" | "allowed" | "denied";

/**
 * A page served by this same host:port (browsers send Origin on every POST,
 * same-origin ones included): not a cross-origin request, so no CORS rule
 * applies. Only the host is compared, not the scheme: behind a TLS proxy the
 * page is https while the gateway sees http, and another site cannot send
 * this Host with its own Origin from a browser.
 */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const sep = origin.indexOf("://");
  return sep > 0 && origin.slice(sep + 3).toLowerCase() === host.toLowerCase();
}

/** CORS: deny cross-origin requests by default; an allow list of exact origins. */
export class Cors {
  private readonly origins: Set<string>;
  private readonly allowHeaders: string;
  private readonly allowHeaderSet: Set<string>;
  private readonly credentials: boolean;
  private readonly maxAge: string;

  constructor(o: CorsOptions | undefined, forwardHeaders: readonly string[]) {
    this.origins = new Set(o?.origins ?? []);
    const headers = (o?.allowHeaders ?? ["content-type", "authorization", "x-api-key", "x-goms-timeout-ms", ...forwardHeaders]).map((h) => h.toLowerCase());
    this.allowHeaderSet = new Set(headers);
    this.allowHeaders = [...this.allowHeaderSet].join(", ");
    this.credentials = o?.credentials ?? false;
    this.maxAge = String(o?.maxAgeSec ?? 600);
  }

  /** For a request with an Origin header: sets the response headers when the origin is allowed. */
  check(req: IncomingMessage, res: ServerResponse): CorsVerdict {
    const origin = req.headers.origin;
    if (origin === undefined || sameOrigin(origin, req.headers.host)) return "none";
    res.setHeader("vary", "Origin");
    if (!this.origins.has(origin)) return "denied";
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", "x-goms-ret, retry-after");
    if (this.credentials) res.setHeader("access-control-allow-credentials", "true");
    return "allowed";
  }

  /** Answers a preflight (OPTIONS with Access-Control-Request-Method). Returns false when denied. */
  preflight(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.check(req, res) !== "allowed") return false;
    const method = req.headers["access-control-request-method"];
    if (method !== undefined && method !== "POST") return false;
    const asked = req.headers["access-control-request-headers"];
    if (asked !== undefined) {
      for (const h of asked.split(",")) {
        const name = h.trim().toLowerCase();
        if (name !== "" && !this.allowHeaderSet.has(name)) return false;
      }
    }
    res.setHeader("access-control-allow-methods", "POST");
    res.setHeader("access-control-allow-headers", this.allowHeaders);
    res.setHeader("access-control-max-age", this.maxAge);
    res.statusCode = 204;
    res.end();
    return true;
  }
}
