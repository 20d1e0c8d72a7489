import { gomsError } from "../../errors/index.js";

/** The parts of an HTTP request target a router needs. */
export interface RequestTarget {
  /** The path as sent, still percent-encoded (routes match on it; decode parameters with decodeSegment). */
  path: string;
  /** The query, decoded. */
  query: URLSearchParams;
}

/**
 * True when `s` percent-decodes to valid UTF-8. decodeURIComponent is the
 * check: it throws URIError for `%` without two hex digits and for byte
 * sequences that are not UTF-8 (`%E0%A4%A`, `%FF`).
 */
function decodes(s: string): boolean {
  if (!s.includes("%")) return true;
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Splits and checks a request target (`req.url`). Origin-form (`/path?query`)
 * is the norm; absolute-form (`http://host/path`) is reduced to its path.
 * Anything else, and any malformed percent-encoding in the path or the
 * query, is GOMS_ERR_BAD_URL (HTTP 400): a client mistake, never a 500.
 * Unlike `new URL(target, base)`, a target starting with `//` stays a path
 * (it is not read as a host), and dot segments are not resolved: routes see
 * what the client sent.
 */
export function parseTarget(raw: string | undefined): RequestTarget {
  let target = raw ?? "/";
  if (!target.startsWith("/")) {
    const m = /^https?:\/\/[^/?#]*/i.exec(target);
    if (m === null) throw gomsError("GOMS_ERR_BAD_URL", { part: "path", problem: "must start with /" });
    target = target.slice(m[0].length);
    if (!target.startsWith("/")) target = "/" + target;
  }
  const hash = target.indexOf("#");
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? "" : target.slice(q + 1);
  if (!decodes(path)) throw gomsError("GOMS_ERR_BAD_URL", { part: "path", problem: "malformed percent-encoding" });
  // URLSearchParams would quietly turn bad escapes into U+FFFD or keep them as text.
  if (!decodes(rawQuery.replace(/\+/g, " "))) throw gomsError("GOMS_ERR_BAD_URL", { part: "query", problem: "malformed percent-encoding" });
  return { path, query: new URLSearchParams(rawQuery) };
}

/** Percent-decodes one path segment (or a whole path); GOMS_ERR_BAD_URL when it is malformed. */
export function decodeSegment(s: string): string {
  if (!decodes(s)) throw gomsError("GOMS_ERR_BAD_URL", { part: "path", problem: "malformed percent-encoding" });
  return decodeURIComponent(s);
}
