import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { AuditLog } from "./audit.js";
import type { AdminState, Req, Route } from "./context.js";
import { gomsError, type GomsError } from "../errors/index.js";
import { clientIp, forwardedHttps, IpSet } from "../internal/http/client-ip.js";
import { sendError } from "../internal/http/json.js";
import { closeHttp, httpServerOptions, httpUrl, listenHttp } from "../internal/http/server.js";
import { decodeSegment, parseTarget } from "../internal/http/url.js";
import { MethodCatalog } from "./methods.js";
import type { AdminOptions } from "./options.js";
import { ProcessControl } from "./processes.js";
import { operatorRoutes, processRows, readRoutes } from "./routes-api.js";
import { authRoutes } from "./routes-auth.js";
import { COOKIE_NAME, Sessions, loadSecret, readCookie } from "./sessions.js";
import { LiveStreams } from "./sse.js";
import { defaultUiDir, serveUi } from "./static.js";
import { LoginThrottle } from "./throttle.js";
import { allows, passwordProblem, UserStore, validUserName } from "./users.js";

const ROUTES: Route[] = [...authRoutes, ...readRoutes, ...operatorRoutes];

/** On every admin response; the UI's own responses add a CSP and their cache policy. */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** The route for `method` and `path` (percent-encoded) and its parameters, or the 404/405 error. */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method) return { route: r, params: m.slice(1) };
  }
  if (!pathMatched) throw gomsError("GOMS_ERR_NO_ROUTE", { path });
  const allow = ROUTES.filter((x) => x.path.test(path)).map((x) => x.method).join(", ");
  throw gomsError("GOMS_ERR_METHOD_NOT_ALLOWED", { method, allow });
}

async function dispatch(req: IncomingMessage, res: ServerResponse, s: AdminState, uiDir: string): Promise<void> {
  for (const k in SECURITY_HEADERS) res.setHeader(k, SECURITY_HEADERS[k]!);
  const { path, query } = parseTarget(req.url);
  if (path === "/metrics") {
    if (s.opts.metricsHandler) return s.opts.metricsHandler(req, res);
    throw gomsError("GOMS_ERR_NOT_CONFIGURED", { what: "/metrics" });
  }
  if (!path.startsWith("/api/")) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      throw gomsError("GOMS_ERR_METHOD_NOT_ALLOWED", { method: req.method ?? "", allow: "GET" });
    }
    return serveUi(uiDir, decodeSegment(path), res);
  }
  let matched: ReturnType<typeof matchRoute>;
  try {
    matched = matchRoute(req.method ?? "", path);
  } catch (e) {
    const allow = (e as GomsError).reason === "GOMS_ERR_METHOD_NOT_ALLOWED" ? ROUTES.filter((x) => x.path.test(path)).map((x) => x.method) : [];
    if (allow.length > 0) res.setHeader("allow", allow.join(", "));
    throw e;
  }
  const { route, params } = matched;
  const peer = req.socket.remoteAddress;
  const ip = clientIp(peer, req.headers["x-forwarded-for"], s.trusted);
  const https = forwardedHttps(peer, req.headers["x-forwarded-proto"], s.trusted);
  const r: Req = { req, res, path, query, ip, https, params, session: undefined, user: "-", role: undefined };
  if (route.access !== "public") {
    const session = s.sessions.verify(readCookie(req.headers.cookie, COOKIE_NAME));
    const role = session ? s.users.role(session.user) : undefined;
    if (!session || role === undefined) throw gomsError("GOMS_ERR_NOT_LOGGED_IN");
    r.session = session;
    r.user = session.user;
    r.role = role;
    if (req.method === "POST") {
      const h = req.headers["x-csrf-token"];
      if (!s.sessions.checkCsrf(session, Array.isArray(h) ? h[0] : h)) {
        await s.audit.record({ user: r.user, ip, action: "csrf", target: path, outcome: "denied" });
        throw gomsError("GOMS_ERR_CSRF");
      }
    }
    if (!allows(role, route.access)) {
      await s.audit.record({ user: r.user, ip, action: `${req.method} ${path}`, target: path, outcome: "denied", detail: `role ${role} < ${route.access}` });
      throw gomsError("GOMS_ERR_ROLE_TOO_LOW", { role, needs: route.access });
    }
  }
  await route.handle(r, s);
}

/** Positive integer options: a typo must fail at createAdmin(), not as a 0 ms lock or timeout. */
function checkLimits(opts: AdminOptions): void {
  const groups: Record<string, object | undefined> = { loginThrottle: opts.loginThrottle, sse: opts.sse, http: opts.http, "": { sessionTtlMs: opts.sessionTtlMs } };
  for (const [group, values] of Object.entries(groups)) {
    for (const [k, v] of Object.entries(values ?? {})) {
      if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: group ? `${group}.${k}` : k, problem: "must be a positive integer" });
    }
  }
  const sc = opts.secureCookies;
  if (sc !== undefined && sc !== true && sc !== false && sc !== "auto") throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "secureCookies", problem: 'must be true, false or "auto"' });
}

/** Default for `close()`: admin requests are short (method calls have their own deadline). */
const DEFAULT_GRACE_MS = 2000;

/**
 * The admin console: JSON API under /api/, live events over SSE, the built UI
 * at /, and /metrics when a handler is given. See docs/admin.md.
 * Create with createAdmin(); start() loads the users and listens.
 */
export class Admin {
  /** The node:http server (listening after start()). */
  readonly server: Server;
  private readonly opts: AdminOptions;
  private readonly trusted: IpSet;
  private readonly streams: LiveStreams;
  private state: AdminState | undefined;
  private boundPort = 0;
  private readonly cleanups: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(opts: AdminOptions) {
    // Options are checked here, so that a bad one fails before anything touches the disk or the network.
    const b = opts.bootstrapUser;
    if (b) {
      if (!validUserName(b.name)) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "bootstrapUser.name", problem: `${JSON.stringify(b.name)} is not a valid user name` });
      const problem = passwordProblem(b.password);
      if (problem) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: "bootstrapUser.password", problem });
    }
    this.opts = opts;
    this.trusted = new IpSet(typeof opts.trustProxy === "string" ? [opts.trustProxy] : (opts.trustProxy ?? []), "trustProxy");
    checkLimits(opts);
    this.streams = new LiveStreams(opts.sse);
    const uiDir = opts.uiDir ?? defaultUiDir();
    const timeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5000, ...opts.http };
    this.server = createServer(httpServerOptions(timeouts), (req, res) => {
      // The server listens only once start() has set the state.
      const state = this.state;
      if (state === undefined) return sendError(res, gomsError("GOMS_ERR_BAD_STATE", { why: "the admin console is not started" }));
      dispatch(req, res, state, uiDir).catch((e: unknown) => sendError(res, e));
    });
  }

  /** The port the console listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** http://host:port */
  get url(): string {
    return httpUrl(this.opts.listen?.host ?? "127.0.0.1", this.boundPort);
  }

  /**
   * One-time token for POST /api/setup when no user exists and no bootstrap
   * user was given; undefined otherwise (and before start). Print it for the operator.
   */
  get setupToken(): string | undefined {
    return this.state?.setupToken;
  }

  /** Creates the data directory, loads the users (creating the bootstrap user), listens and starts polling supervisord. */
  async start(): Promise<this> {
    if (this.state !== undefined || this.closing !== undefined) throw gomsError("GOMS_ERR_BAD_STATE", { why: "the admin console was already started" });
    const opts = this.opts;
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const users = new UserStore(opts.dataDir);
    await users.load();
    const audit = new AuditLog(opts.dataDir);
    let setupToken: string | undefined;
    if (users.size === 0) {
      const b = opts.bootstrapUser;
      if (b) {
        await users.set(b.name, b.password, "admin");
        await audit.record({ user: "-", ip: "-", action: "setup", target: b.name, outcome: "ok", detail: "bootstrap user created" });
      } else {
        setupToken = randomBytes(18).toString("base64url");
      }
    }
    const streams = this.streams;
    const state: AdminState = {
      opts,
      trusted: this.trusted,
      users,
      sessions: new Sessions(await loadSecret(opts.dataDir), (user) => users.generation(user), opts.sessionTtlMs),
      throttle: new LoginThrottle(opts.loginThrottle),
      audit,
      processes: new ProcessControl(opts.supervisors ?? [], () => streams.broadcasting > 0 && streams.broadcast("processes", processRows(state)), opts.pollMs ?? 1000),
      methods: new MethodCatalog(opts.node),
      streams,
      setupToken,
    };
    this.state = state;
    this.boundPort = await listenHttp(this.server, opts.listen?.port ?? 8092, opts.listen?.host ?? "127.0.0.1");
    this.cleanups.push(
      opts.store.subscribe((ev) => {
        streams.broadcast("monitor", ev);
      }),
      audit.onEntry((e) => {
        streams.broadcast("audit", e);
      }),
    );
    state.processes.start();
    return this;
  }

  /**
   * Stops polling, ends the live event streams, lets requests in flight finish
   * within `graceMs` (default 2000), then closes every connection.
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    return (this.closing ??= (async () => {
      for (const f of this.cleanups.splice(0)) f();
      this.state?.processes.stop();
      this.streams.close();
      await closeHttp(this.server, options.graceMs ?? DEFAULT_GRACE_MS);
    })());
  }
}

/** Creates the admin console; call start(). Throws on invalid options. */
export function createAdmin(opts: AdminOptions): Admin {
  return new Admin(opts);
}
