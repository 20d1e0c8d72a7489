import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { gomsError } from "../errors/index.js";
import { CappedMap } from "../internal/util/capped-map.js";
import { readIfExists, writeFileAtomic } from "./fs-util.js";

export const COOKIE_NAME = "goms_admin";

export interface Session {
  /** Random session id. */
  sid: string;
  user: string;
  /** Unix ms. */
  exp: number;
  /**
   * The user's session generation when the session was issued
   * (UserStore.generation). A password or role change moves it on, which ends
   * every session issued before.
   */
  gen: number;
}

/** Default session lifetime: 12 h. */
export const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;

/** Revoked session ids remembered until they expire; past this, a logout revokes all the user's sessions. */
const MAX_REVOKED = 100_000;

function b64u(b: Buffer | string): string {
  return Buffer.from(b).toString("base64url");
}

/** Loads the HMAC secret from `secret` in the data directory, creating a random one on first start. */
export async function loadSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, "secret");
  const text = await readIfExists(path);
  if (text !== undefined && /^[0-9a-f]{64}$/.test(text.trim())) return Buffer.from(text.trim(), "hex");
  const secret = randomBytes(32);
  await writeFileAtomic(path, secret.toString("hex") + "\n");
  return secret;
}

/**
 * Stateless sessions in a signed cookie (HMAC-SHA256 with the persisted secret):
 * `<base64url(JSON session)>.<base64url(mac)>`. Logout revokes the session id
 * in memory until it would have expired. A session is also void once its
 * user's generation has moved on (password or role change, user removed). The
 * CSRF token is derived from the session id, so it needs no storage either.
 */
export class Sessions {
  private readonly revoked = new CappedMap<string, number>(MAX_REVOKED, (limit) => gomsError("GOMS_ERR_BAD_STATE", { why: `more than ${limit} revoked sessions` }));

  /** `generation(user)`: the user's current generation, undefined when there is no such user. */
  constructor(
    private readonly secret: Buffer,
    private readonly generation: (user: string) => number | undefined,
    readonly ttlMs = DEFAULT_SESSION_TTL_MS,
  ) {}

  private mac(data: string): Buffer {
    return createHmac("sha256", this.secret).update(data).digest();
  }

  issue(user: string): { session: Session; cookie: string } {
    const session: Session = { sid: randomBytes(16).toString("base64url"), user, exp: Date.now() + this.ttlMs, gen: this.generation(user) ?? 0 };
    return { session, cookie: this.seal(b64u(JSON.stringify(session))) };
  }

  /** The cookie value for an encoded session body: the body and its signature. */
  seal(body: string): string {
    return `${body}.${b64u(this.mac(body))}`;
  }

  /** The session in a cookie value, when the signature holds and it is neither expired nor revoked. */
  verify(cookie: string | undefined): Session | undefined {
    if (cookie === undefined) return undefined;
    const dot = cookie.indexOf(".");
    if (dot <= 0) return undefined;
    const body = cookie.slice(0, dot);
    const sig = Buffer.from(cookie.slice(dot + 1), "base64url");
    const want = this.mac(body);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    if (typeof v !== "object" || v === null) return undefined;
    const s = v as Partial<Session>;
    if (typeof s.sid !== "string" || typeof s.user !== "string" || typeof s.exp !== "number") return undefined;
    // Cookies issued before generations existed carry none: generation 0, like users stored before.
    const gen = s.gen ?? 0;
    if (typeof gen !== "number" || gen !== this.generation(s.user)) return undefined;
    if (s.exp <= Date.now() || this.revoked.has(s.sid)) return undefined;
    return { sid: s.sid, user: s.user, exp: s.exp, gen };
  }

  /**
   * Revokes one session. False when the revocation table is full even after
   * forgetting expired entries: the caller must then end all of the user's
   * sessions (UserStore.bumpGeneration), failing closed.
   */
  revoke(s: Session): boolean {
    const now = Date.now();
    if (this.revoked.isFull) for (const [sid, exp] of this.revoked) if (exp <= now) this.revoked.delete(sid);
    return this.revoked.trySet(s.sid, s.exp);
  }

  csrfToken(s: Session): string {
    return b64u(this.mac(`csrf:${s.sid}`));
  }

  checkCsrf(s: Session, header: string | undefined): boolean {
    if (header === undefined) return false;
    const got = Buffer.from(header);
    const want = Buffer.from(this.csrfToken(s));
    return got.length === want.length && timingSafeEqual(got, want);
  }

  setCookieHeader(value: string, secure: boolean): string {
    return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? "; Secure" : ""}`;
  }

  clearCookieHeader(secure: boolean): string {
    return `${COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
  }
}

/** The value of cookie `name` in a Cookie header (first one wins); never throws. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
