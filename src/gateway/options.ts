import type { JWK } from "jose";
import type { GomsNode } from "../rpc/index.js";
import { DEFAULT_SSE_LIMITS, type SseLimits } from "../internal/http/sse.js";

/** JWT verification for a route prefix (jose): HS256 with a shared secret, or RS256/ES256 with a JWKS. */
export interface JwtAuth {
  /** HMAC secret (HS256/HS384/HS512). */
  secret?: string | Uint8Array;
  /** JSON Web Key Set with the public keys (RS256 and friends), as an object (no fetching). */
  jwks?: { keys: JWK[] };
  /** Accepted algorithms. Default: ["HS256"] with a secret, ["RS256"] with a JWKS. */
  algorithms?: string[];
  /** Required `iss`. */
  issuer?: string | string[];
  /** Required `aud`. */
  audience?: string | string[];
  /** Allowed clock skew in seconds. Default 5. */
  clockToleranceSec?: number;
}

/** One API key; `name` (default "apikey") goes into metadata x-goms-sub. */
export interface ApiKey {
  key: string;
  name?: string;
}

/**
 * An auth rule. `prefix` is matched against the canonical route forms
 * `/api/<fully.qualified.Service>/<Method>` and `/api/<Service>/<Method>`;
 * the longest matching prefix wins. A rule with neither jwt nor apiKeys makes
 * its prefix public.
 */
export interface AuthRule {
  prefix: string;
  jwt?: JwtAuth;
  apiKeys?: Array<string | ApiKey>;
}

export interface CorsOptions {
  /** Allowed origins, exactly as browsers send them (e.g. "https://app.example.com"). Default: none. */
  origins: string[];
  /** Request headers a browser may send. Default: content-type, authorization, x-api-key, x-goms-timeout-ms and forwardHeaders. */
  allowHeaders?: string[];
  /** Allow cookies / credentials. Default false. */
  credentials?: boolean;
  /** Preflight cache time in seconds. Default 600. */
  maxAgeSec?: number;
}

/** Token bucket: `ratePerSec` tokens per second, up to `burst` (default = ratePerSec). */
export interface BucketOptions {
  ratePerSec: number;
  burst?: number;
}

/**
 * Where a limit takes its tokens. take() answers 0 when a token was taken,
 * otherwise the seconds until the next one (Retry-After). It may answer with a
 * promise when the buckets live in another process: `goms gateway --workers N`
 * keeps them in the cluster's primary so that a limit holds across workers.
 * It may throw (or reject with) a RetryLater to refuse with its own reason, as
 * RateLimiter does for a new key when its table is full.
 */
export interface TokenSource {
  take(key: string): number | Promise<number>;
}

export interface RateLimitOptions {
  /** Per client IP (after trusted-proxy resolution). */
  perIp?: BucketOptions;
  /** Per route (canonical Service/Method), shared by all clients. */
  perRoute?: BucketOptions;
  /**
   * Buckets kept per limiter. Default 10000. When full, buckets that have
   * refilled (idle clients) make room; if none has, a new key is refused with
   * 429 (GOMS_ERR_RATE_LIMIT_FULL): a throttled client's bucket is never evicted.
   */
  maxKeys?: number;
  /** The buckets of each limit. Default: token buckets in this process (each process limits on its own). */
  tokens?: (limit: "perIp" | "perRoute", bucket: BucketOptions) => TokenSource;
}

/**
 * Shedding at the edge (docs/gateway.md): the gateway answers 503 with
 * Retry-After at once, rather than letting requests wait for a timeout.
 */
export interface ShedOptions {
  /** Requests in flight per route at this gateway process past which new ones get 503 at once. Default: no limit. */
  maxInflightPerRoute?: number;
  /**
   * Limits for some routes, overriding maxInflightPerRoute. Keys: "pkg.Service/Method",
   * "Service/Method", or a service ("pkg.Service" or "Service") for all its methods;
   * the most specific key wins. 0 refuses every request to the route.
   */
  routes?: Record<string, number>;
  /** Retry-After (seconds) on the gateway's 503 answers: shed requests and calls every backend refused. Default 1. */
  retryAfterSec?: number;
}

export interface GatewayOptions {
  /** The goms node the gateway calls through (started by you). */
  node: GomsNode;
  /** Where start() listens. Default 127.0.0.1 and a free port (see `gateway.port`). */
  listen?: { port?: number | undefined; host?: string | undefined };
  /** Path prefix of RPC routes. Default "/api". */
  prefix?: string;
  /** Largest request body in bytes. Default 1 MiB (larger: 413). */
  maxBodyBytes?: number;
  /** RPC deadline when the request sets no x-goms-timeout-ms. Default 10000. */
  defaultTimeoutMs?: number;
  /** Upper bound for x-goms-timeout-ms. Default 60000. */
  maxTimeoutMs?: number;
  /** Time allowed to receive the whole body after the headers. Default 10000 (then 408). */
  bodyTimeoutMs?: number;
  /** node:http headersTimeout for listen(): time to receive the request headers. Default 10000. */
  headersTimeoutMs?: number;
  /** node:http requestTimeout for listen(): time to receive the whole request. Default 30000. */
  requestTimeoutMs?: number;
  /** node:http keepAliveTimeout for listen(). Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Request headers copied into call metadata (lower-cased names). */
  forwardHeaders?: string[];
  /** Peers (IPs or CIDRs) whose X-Forwarded-For is believed. Default none. */
  trustedProxies?: string[];
  /** Auth rules by route prefix. Default: no auth. */
  auth?: AuthRule[];
  /** CORS allow list. Default: deny every cross-origin request. */
  cors?: CorsOptions;
  rateLimit?: RateLimitOptions;
  /** Per-route concurrency limits and the Retry-After of shed requests. */
  shed?: ShedOptions;
  /** Descriptor fetch timeout for static peers, in ms. Default 3000. */
  descriptorTimeoutMs?: number;
  /** How long close() waits for in-flight requests before cutting connections. Default 10000. */
  shutdownGraceMs?: number;
  /** Serve GET /openapi.json. Default true. */
  openapi?: boolean;
  /**
   * Accept Content-Type application/x-www-form-urlencoded (what `curl -d` sends)
   * and parse the body as JSON anyway. Default true. Cross-origin browser
   * requests are still refused unless their Origin is allowed.
   */
  acceptCurlForm?: boolean;
  /**
   * Bounds of server streams answered as SSE or NDJSON (docs/gateway.md
   * "Streams"): bytes held for a client that reads too slowly (default 4 MiB,
   * more than one message of the node's default frame limit would need, as
   * the gateway holds one message beyond what the socket took) and the
   * heartbeat period (default 15000; a client that took nothing over a whole
   * period while bytes waited is dropped).
   */
  streams?: SseLimits;
}

export interface ResolvedOptions {
  prefix: string;
  maxBodyBytes: number;
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  forwardHeaders: string[];
  descriptorTimeoutMs: number;
  shutdownGraceMs: number;
  openapi: boolean;
  acceptCurlForm: boolean;
  streams: Required<SseLimits>;
}

export function resolveOptions(o: GatewayOptions): ResolvedOptions {
  const prefix = (o.prefix ?? "/api").replace(/\/+$/, "");
  return {
    prefix,
    maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
    defaultTimeoutMs: o.defaultTimeoutMs ?? 10_000,
    maxTimeoutMs: o.maxTimeoutMs ?? 60_000,
    bodyTimeoutMs: o.bodyTimeoutMs ?? 10_000,
    headersTimeoutMs: o.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 5000,
    forwardHeaders: (o.forwardHeaders ?? []).map((h) => h.toLowerCase()),
    descriptorTimeoutMs: o.descriptorTimeoutMs ?? 3000,
    shutdownGraceMs: o.shutdownGraceMs ?? 10_000,
    openapi: o.openapi ?? true,
    acceptCurlForm: o.acceptCurlForm ?? true,
    streams: { maxQueuedBytes: o.streams?.maxQueuedBytes ?? 4 * 1024 * 1024, heartbeatMs: o.streams?.heartbeatMs ?? DEFAULT_SSE_LIMITS.heartbeatMs },
  };
}
