import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import { Code, GomsError } from "../errors/index.js";
import type { AuthRule } from "./options.js";
import { WS_API_KEY_PREFIX as WS_API_KEY, WS_BEARER_PREFIX as WS_BEARER } from "../web/auth.js";

/** Who the request authenticated as (undefined for public routes). */
export interface Principal {
  sub: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The credentials of a request: its headers, and for a WebSocket upgrade
 * without them the subprotocols offered next to goms.v1 (docs/gateway.md
 * "Browser auth"): `goms.bearer.<base64url token>` stands for
 * `Authorization: Bearer <token>`, `goms.apikey.<base64url key>` for
 * `x-api-key`. A header actually sent wins. Only upgrades are read this way,
 * so a plain POST authenticates with headers alone.
 */
export function credentialHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
  const offer = h["sec-websocket-protocol"];
  if (offer === undefined || h.upgrade?.toLowerCase() !== "websocket") return h;
  const out: IncomingHttpHeaders = { ...h };
  for (const raw of offer.split(",")) {
    const p = raw.trim();
    const prefix = p.startsWith(WS_BEARER) ? WS_BEARER : p.startsWith(WS_API_KEY) ? WS_API_KEY : undefined;
    if (prefix === undefined) continue;
    const enc = p.slice(prefix.length);
    if (!BASE64URL.test(enc)) throw new GomsError(`malformed ${prefix}<base64url> WebSocket subprotocol`, Code.Unauthenticated);
    const value = Buffer.from(enc, "base64url").toString("utf8");
    if (prefix === WS_BEARER) out.authorization ??= `Bearer ${value}`;
    else out["x-api-key"] ??= value;
  }
  return out;
}

interface CompiledRule {
  prefix: string;
  check: ((headers: IncomingHttpHeaders) => Promise<Principal>) | undefined;
}

function sha(s: string | Uint8Array): Buffer {
  return createHash("sha256").update(s).digest();
}

function apiKeyCheck(keys: NonNullable<AuthRule["apiKeys"]>): (h: IncomingHttpHeaders) => Promise<Principal> {
  // Compare fixed-size digests in constant time, and look at every key whatever matched.
  const digests = keys.map((k) => (typeof k === "string" ? { d: sha(k), name: "apikey" } : { d: sha(k.key), name: k.name ?? "apikey" }));
  return (h) => {
    const given = h["x-api-key"];
    if (typeof given !== "string" || given === "") return Promise.reject(new GomsError("missing x-api-key", Code.Unauthenticated));
    const d = sha(given);
    let found: string | undefined;
    for (const k of digests) if (timingSafeEqual(d, k.d) && found === undefined) found = k.name;
    if (found === undefined) return Promise.reject(new GomsError("invalid API key", Code.Unauthenticated));
    return Promise.resolve({ sub: found });
  };
}

function jwtCheck(o: NonNullable<AuthRule["jwt"]>): (h: IncomingHttpHeaders) => Promise<Principal> {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (o.secret !== undefined) {
    key = typeof o.secret === "string" ? new TextEncoder().encode(o.secret) : o.secret;
    algorithms = o.algorithms ?? ["HS256"];
  } else if (o.jwks !== undefined) {
    key = createLocalJWKSet(o.jwks);
    algorithms = o.algorithms ?? ["RS256"];
  } else {
    throw new GomsError("jwt auth needs a secret or a jwks", Code.InvalidArgument);
  }
  const verify: JWTVerifyOptions = { algorithms, clockTolerance: o.clockToleranceSec ?? 5, requiredClaims: ["exp"] };
  if (o.issuer !== undefined) verify.issuer = o.issuer;
  if (o.audience !== undefined) verify.audience = o.audience;
  return async (h) => {
    const auth = h.authorization;
    if (auth === undefined || !/^bearer /i.test(auth)) throw new GomsError("missing bearer token", Code.Unauthenticated);
    const token = auth.slice(7).trim();
    try {
      const { payload } = typeof key === "function" ? await jwtVerify(token, key, verify) : await jwtVerify(token, key, verify);
      return { sub: typeof payload.sub === "string" ? payload.sub : "" };
    } catch (e) {
      throw new GomsError(`invalid token: ${(e as Error).message}`, Code.Unauthenticated);
    }
  };
}

/** Auth rules by route prefix; the longest matching prefix decides. */
export class Auth {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly AuthRule[] | undefined) {
    this.rules = (rules ?? [])
      .map((r) => ({
        prefix: r.prefix,
        check: r.jwt !== undefined ? jwtCheck(r.jwt) : r.apiKeys !== undefined ? apiKeyCheck(r.apiKeys) : undefined,
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get enabled(): boolean {
    return this.rules.length > 0;
  }

  /** The rule for the first path (of the given spellings) that some rule's prefix matches. */
  private ruleFor(paths: readonly string[]): CompiledRule | undefined {
    for (const r of this.rules) for (const p of paths) if (p.startsWith(r.prefix)) return r;
    return undefined;
  }

  /**
   * Authenticates a request for a route known by `paths` (its canonical
   * spellings). Resolves with the principal, or undefined for public routes;
   * rejects with unauthenticated. A WebSocket upgrade may carry its
   * credentials as subprotocols (credentialHeaders).
   */
  authenticate(paths: readonly string[], headers: IncomingHttpHeaders): Promise<Principal | undefined> | undefined {
    const rule = this.ruleFor(paths);
    if (rule?.check === undefined) return undefined;
    const check = rule.check;
    try {
      return check(credentialHeaders(headers));
    } catch (e) {
      return Promise.reject(GomsError.from(e));
    }
  }
}
