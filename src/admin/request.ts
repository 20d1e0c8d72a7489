import type { IncomingMessage } from "node:http";
import { gomsError } from "../errors/index.js";
import { readBody } from "../internal/http/body.js";

/** How long a client may take to send a request body. */
const BODY_TIMEOUT_MS = 10_000;

/**
 * Reads a JSON object body (max `limit` bytes, default 1 MiB). POSTs must say
 * content-type application/json: that forces a CORS preflight for cross-site
 * requests, which the admin never allows.
 */
export async function readJson(req: IncomingMessage, limit = 1 << 20): Promise<Record<string, unknown>> {
  const ct = req.headers["content-type"] ?? "";
  if (!ct.startsWith("application/json")) throw gomsError("GOMS_ERR_UNSUPPORTED_MEDIA_TYPE", { type: ct || "(none)", want: "application/json" });
  const text = await readBody(req, limit, BODY_TIMEOUT_MS);
  if (text.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw gomsError("GOMS_ERR_BAD_JSON", { what: "request body", why: (e as Error).message }, { cause: e });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw gomsError("GOMS_ERR_BAD_JSON", { what: "request body", why: "expected an object" });
  return v as Record<string, unknown>;
}

export function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string") throw gomsError("GOMS_ERR_BAD_FIELD", { field: key, problem: "must be a string" });
  return v;
}

export function optStr(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw gomsError("GOMS_ERR_BAD_FIELD", { field: key, problem: "must be a string" });
  return v;
}
