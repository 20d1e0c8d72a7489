// The admin console's request-target and cookie parsing: whatever the URL or
// Cookie header, the only error is the documented 400 (GOMS_ERR_BAD_URL), or
// the router's 404/405; nothing else is thrown, and a well-formed URL round-trips.
import fc from "fast-check";
import assert from "node:assert/strict";
import { matchRoute } from "../../src/admin/admin.js";
import { COOKIE_NAME, readCookie, Sessions } from "../../src/admin/sessions.js";
import { GomsError } from "../../src/errors/index.js";
import { decodeSegment, parseTarget } from "../../src/internal/http/url.js";
import type { FuzzTarget } from "./target.js";

const TEMPLATES = ["/", "/api/nodes/db0/series", "/api/registry?prefix=goms/nodes/&from=3", "/api/audit?limit=5", "/api/processes/local/db0/log?bytes=100", "/assets/index-abc.js", "/caf%C3%A9", "http://admin/api/nodes"];
const FRAGMENTS = ["%", "%E0", "%A4", "%A", "%zz", "%FF", "%C3%A9", "%ED%A0%80", "%F0%9F%98", "%00", "%2F", "%25", "?", "#", "&", "=", "+", "/", "..", "//", "é", "\u{1F600}", " "];
const CHARS = [..."%/?#&=+.0123456789abcdefABCDEFxz", "é", "\u0000"];

const mutatedUrl = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...FRAGMENTS)), { maxLength: 6 }))
  .map(([t, edits]) => edits.reduce((s, [at, f]) => s.slice(0, at % (s.length + 1)) + f + s.slice(at % (s.length + 1)), t));
const randomUrl = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 40 }).map((s) => (s.startsWith("/") ? s : "/" + s));
const anyUrl = fc.oneof(mutatedUrl, randomUrl, fc.string({ maxLength: 30 }));

const sessions = new Sessions(Buffer.alloc(32, 7), (user) => (user === "root" ? 0 : undefined));

/** Runs `fn`; a thrown error must be one of `reasons`. */
function onlyThrows(reasons: readonly string[], fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    assert.ok(e instanceof GomsError && e.reason !== undefined && reasons.includes(e.reason), `unexpected ${String(e)}`);
    return false;
  }
}

function checkUrl(method: string, raw: string): void {
  let target: ReturnType<typeof parseTarget> | undefined;
  if (!onlyThrows(["GOMS_ERR_BAD_URL"], () => (target = parseTarget(raw)))) return;
  const { path, query } = target!;
  assert.ok(path.startsWith("/") && !path.includes("?") && !path.includes("#"), path);
  decodeSegment(path); // a parsed path always decodes
  for (const [k, v] of query) assert.ok(typeof k === "string" && typeof v === "string");
  let params: string[] = [];
  if (onlyThrows(["GOMS_ERR_NO_ROUTE", "GOMS_ERR_METHOD_NOT_ALLOWED"], () => (params = matchRoute(method, path).params))) {
    for (const p of params) decodeSegment(p);
  }
}

function checkCookie(header: string): void {
  const value = readCookie(header, COOKIE_NAME);
  assert.equal(sessions.verify(value), undefined);
}

export const adminTargets: FuzzTarget[] = [
  {
    name: "admin-url-cookie",
    check(runs) {
      fc.assert(
        fc.property(
          fc.constantFrom("GET", "POST", "PUT", "HEAD", ""),
          anyUrl,
          fc.string({ unit: "grapheme", maxLength: 12 }),
          fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.tuple(fc.constantFrom(COOKIE_NAME, "x", " goms_admin ", ""), fc.string({ maxLength: 40 })), { maxLength: 4 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join("; "))),
          fc.jsonValue({ maxDepth: 1 }),
          (method, raw, text, cookie, json) => {
            checkUrl(method, raw);
            // Well-formed escapes round-trip.
            const encoded = parseTarget(`/api/nodes/${encodeURIComponent(text)}/series?prefix=${encodeURIComponent(text)}`);
            assert.equal(decodeSegment(encoded.path.split("/")[3]!), text);
            assert.equal(encoded.query.get("prefix"), text);
            checkCookie(cookie);
            // A correctly signed cookie around any JSON is a session only when it has the session's shape.
            const body = Buffer.from(JSON.stringify(json) ?? "null").toString("base64url");
            const s = sessions.verify(sessions.seal(body));
            if (s !== undefined) assert.ok(typeof s.sid === "string" && s.user === "root" && s.exp > Date.now() && s.gen === 0);
          },
        ),
        { numRuns: runs },
      );
    },
  },
];
