import { timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { AdminState, Req, Route } from "./context.js";
import { gomsError, type GomsError } from "../errors/index.js";
import { sendJson } from "../internal/http/json.js";
import { readJson, str } from "./request.js";
import { isRole, passwordProblem, validUserName } from "./users.js";

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function badUserName(): GomsError {
  return gomsError("GOMS_ERR_BAD_FIELD", { field: "user", problem: "1-64 of A-Z a-z 0-9 _ . @ -" });
}

/** Whether this response's cookie is Secure (AdminOptions.secureCookies). */
function secure(r: Req, s: AdminState): boolean {
  const mode = s.opts.secureCookies ?? "auto";
  return mode === "auto" ? r.https : mode;
}

/**
 * A user name as the audit log and the throttle keep it: names longer than a
 * valid one are cut, so a client cannot write kilobytes per attempt.
 */
function loggedName(user: string): string {
  return user.length <= MAX_LOGGED_NAME ? user : `${user.slice(0, MAX_LOGGED_NAME)}…`;
}

const MAX_LOGGED_NAME = 64;

/** The throttled answer; Retry-After is set on the response before the error is sent. */
function tooManyAttempts(res: ServerResponse, what: string, waitMs: number): GomsError {
  res.setHeader("retry-after", String(Math.ceil(waitMs / 1000)));
  return gomsError("GOMS_ERR_TOO_MANY_ATTEMPTS", { what });
}

/** Login, logout, first-start setup, the current session, user management. */
export const authRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/setup$/,
    access: "public",
    handle({ res }, s) {
      sendJson(res, 200, { needed: s.setupToken !== undefined });
    },
  },
  {
    method: "POST",
    path: /^\/api\/setup$/,
    access: "public",
    async handle(r, s) {
      const body = await readJson(r.req);
      const token = str(body, "token");
      const user = str(body, "user");
      const password = str(body, "password");
      if (s.setupToken === undefined) throw gomsError("GOMS_ERR_SETUP_DONE");
      const attempt = s.throttle.reserve("#setup", r.ip);
      if (!attempt.ok) throw tooManyAttempts(r.res, "setup", attempt.retryAfterMs);
      if (!sameToken(token, s.setupToken)) {
        await s.audit.record({ user: "-", ip: r.ip, action: "setup", target: loggedName(user), outcome: "denied", detail: "bad setup token" });
        throw gomsError("GOMS_ERR_BAD_SETUP_TOKEN");
      }
      s.throttle.success(attempt.ticket);
      if (!validUserName(user)) throw badUserName();
      const problem = passwordProblem(password);
      if (problem) throw gomsError("GOMS_ERR_BAD_FIELD", { field: "password", problem });
      s.setupToken = undefined;
      await s.users.set(user, password, "admin");
      await s.audit.record({ user, ip: r.ip, action: "setup", target: user, outcome: "ok", detail: "first admin user created" });
      const { session, cookie } = s.sessions.issue(user);
      sendJson(r.res, 200, { user, role: "admin", csrf: s.sessions.csrfToken(session) }, { "set-cookie": s.sessions.setCookieHeader(cookie, secure(r, s)) });
    },
  },
  {
    method: "POST",
    path: /^\/api\/login$/,
    access: "public",
    async handle(r, s) {
      const body = await readJson(r.req, 4 << 10);
      const user = str(body, "user");
      const password = str(body, "password");
      const target = loggedName(user);
      // The attempt is counted before the slow hash, so concurrent guesses cannot all be checked.
      const attempt = s.throttle.reserve(target, r.ip);
      if (!attempt.ok) {
        await s.audit.record({ user: target, ip: r.ip, action: "login", target, outcome: "denied", detail: "throttled" });
        throw tooManyAttempts(r.res, "login", attempt.retryAfterMs);
      }
      // An invalid name is no user: it costs the same hash and counts as a failure.
      const role = await s.users.verify(validUserName(user) ? user : "", password);
      if (role === undefined) {
        await s.audit.record({ user: target, ip: r.ip, action: "login", target, outcome: "denied", detail: "bad user or password" });
        throw gomsError("GOMS_ERR_BAD_CREDENTIALS");
      }
      s.throttle.success(attempt.ticket);
      const { session, cookie } = s.sessions.issue(user);
      await s.audit.record({ user, ip: r.ip, action: "login", target: user, outcome: "ok" });
      sendJson(r.res, 200, { user, role, csrf: s.sessions.csrfToken(session) }, { "set-cookie": s.sessions.setCookieHeader(cookie, secure(r, s)) });
    },
  },
  {
    method: "POST",
    path: /^\/api\/logout$/,
    access: "viewer",
    async handle(r, s) {
      const session = r.session!;
      // A full revocation table fails closed: every session of the user ends.
      if (!s.sessions.revoke(session)) await s.users.bumpGeneration(session.user);
      s.streams.endSession(session.sid, "logged out");
      await s.audit.record({ user: r.user, ip: r.ip, action: "logout", target: r.user, outcome: "ok" });
      sendJson(r.res, 200, {}, { "set-cookie": s.sessions.clearCookieHeader(secure(r, s)) });
    },
  },
  {
    method: "GET",
    path: /^\/api\/session$/,
    access: "viewer",
    handle(r, s) {
      sendJson(r.res, 200, { user: r.user, role: r.role, csrf: s.sessions.csrfToken(r.session!) });
    },
  },
  {
    method: "GET",
    path: /^\/api\/users$/,
    access: "admin",
    handle(r, s) {
      sendJson(r.res, 200, { users: s.users.list() });
    },
  },
  {
    method: "POST",
    path: /^\/api\/users$/,
    access: "admin",
    async handle(r, s) {
      const body = await readJson(r.req);
      const user = str(body, "user");
      const role = body["role"];
      const password = str(body, "password");
      if (!validUserName(user)) throw badUserName();
      if (!isRole(role)) throw gomsError("GOMS_ERR_BAD_FIELD", { field: "role", problem: "must be viewer, operator or admin" });
      const problem = passwordProblem(password);
      if (problem) throw gomsError("GOMS_ERR_BAD_FIELD", { field: "password", problem });
      const before = s.users.role(user);
      await s.users.set(user, password, role);
      // set() moved the user's generation on: the sessions are void, end their streams now.
      if (before !== undefined) s.streams.endUser(user, before === role ? "password changed" : `role changed to ${role}`);
      await s.audit.record({ user: r.user, ip: r.ip, action: "user.set", target: user, outcome: "ok", detail: `role ${role}` });
      sendJson(r.res, 200, { user, role });
    },
  },
];
