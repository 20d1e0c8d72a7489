import { timingSafeEqual } from "node:crypto";
import type { Route } from "./context.js";
import { HttpError, readJson, sendJson, str } from "./http-util.js";
import { isRole, passwordProblem, validUserName } from "./users.js";

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
      if (s.setupToken === undefined) throw new HttpError(409, "setup already done");
      if (s.throttle.retryAfterMs("#setup", r.ip) > 0) throw new HttpError(429, "too many attempts", { "retry-after": String(Math.ceil(s.throttle.retryAfterMs("#setup", r.ip) / 1000)) });
      if (!sameToken(token, s.setupToken)) {
        s.throttle.failure("#setup", r.ip);
        await s.audit.record({ user: "-", ip: r.ip, action: "setup", target: user, outcome: "denied", detail: "bad setup token" });
        throw new HttpError(403, "bad setup token");
      }
      if (!validUserName(user)) throw new HttpError(400, "user name: 1-64 of A-Z a-z 0-9 _ . @ -");
      const problem = passwordProblem(password);
      if (problem) throw new HttpError(400, problem);
      s.setupToken = undefined;
      await s.users.set(user, password, "admin");
      await s.audit.record({ user, ip: r.ip, action: "setup", target: user, outcome: "ok", detail: "first admin user created" });
      const { session, cookie } = s.sessions.issue(user);
      sendJson(r.res, 200, { user, role: "admin", csrf: s.sessions.csrfToken(session) }, { "set-cookie": s.sessions.setCookieHeader(cookie, s.opts.secureCookies ?? false) });
    },
  },
  {
    method: "POST",
    path: /^\/api\/login$/,
    access: "public",
    async handle(r, s) {
      const body = await readJson(r.req, 16 << 10);
      const user = str(body, "user");
      const password = str(body, "password");
      const wait = s.throttle.retryAfterMs(user, r.ip);
      if (wait > 0) {
        await s.audit.record({ user, ip: r.ip, action: "login", target: user, outcome: "denied", detail: "throttled" });
        throw new HttpError(429, "too many failed logins; try again later", { "retry-after": String(Math.ceil(wait / 1000)) });
      }
      const role = await s.users.verify(user, password);
      if (role === undefined) {
        s.throttle.failure(user, r.ip);
        await s.audit.record({ user, ip: r.ip, action: "login", target: user, outcome: "denied", detail: "bad user or password" });
        throw new HttpError(401, "bad user or password");
      }
      s.throttle.success(user, r.ip);
      const { session, cookie } = s.sessions.issue(user);
      await s.audit.record({ user, ip: r.ip, action: "login", target: user, outcome: "ok" });
      sendJson(r.res, 200, { user, role, csrf: s.sessions.csrfToken(session) }, { "set-cookie": s.sessions.setCookieHeader(cookie, s.opts.secureCookies ?? false) });
    },
  },
  {
    method: "POST",
    path: /^\/api\/logout$/,
    access: "viewer",
    async handle(r, s) {
      if (r.session) s.sessions.revoke(r.session);
      await s.audit.record({ user: r.user, ip: r.ip, action: "logout", target: r.user, outcome: "ok" });
      sendJson(r.res, 200, {}, { "set-cookie": s.sessions.clearCookieHeader(s.opts.secureCookies ?? false) });
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
      if (!validUserName(user)) throw new HttpError(400, "user name: 1-64 of A-Z a-z 0-9 _ . @ -");
      if (!isRole(role)) throw new HttpError(400, "role must be viewer, operator or admin");
      const problem = passwordProblem(password);
      if (problem) throw new HttpError(400, problem);
      await s.users.set(user, password, role);
      await s.audit.record({ user: r.user, ip: r.ip, action: "user.set", target: user, outcome: "ok", detail: `role ${role}` });
      sendJson(r.res, 200, { user, role });
    },
  },
];
