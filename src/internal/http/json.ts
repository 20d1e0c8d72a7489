import type { OutgoingHttpHeader, ServerResponse } from "node:http";
import { Code, codeToString, GomsError, reasonStatus } from "../../errors/index.js";

/** HTTP status for each goms code (docs/gateway.md). */
const STATUS: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 404,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/**
 * The HTTP status for an error: the one its reason names in the catalog
 * (413, 408, 405, 415, ...) if any, else the usual one for its code.
 */
export function httpStatus(code: Code, reason?: string): number {
  return reasonStatus(reason) ?? STATUS[code] ?? 500;
}

/** The JSON error body of every goms HTTP server (gateway and admin). */
export interface ErrorBody {
  /** The goms code name, e.g. "not_found". */
  code: string;
  /** The message without the "[code]" prefix. */
  message: string;
  /** Stable reason id (docs/errors.md), when goms knows one. */
  reason?: string;
  ret?: number;
  details?: Array<{ type: string; value: string }>;
}

export function errorBody(e: GomsError): ErrorBody {
  const body: ErrorBody = { code: codeToString(e.code), message: e.rawMessage };
  if (e.reason !== undefined) body.reason = e.reason;
  if (e.ret !== 0) body.ret = e.ret;
  if (e.details.length > 0) body.details = e.details.map((d) => ({ type: d.type, value: Buffer.from(d.value).toString("base64") }));
  return body;
}

/**
 * Errors raised while the request body is still (partly) unread. Closing the
 * connection is the only way to stop the client sending the rest: otherwise
 * node:http would read and discard it to keep the connection alive.
 */
const CLOSES_CONNECTION = new Set(["GOMS_ERR_BODY_TOO_LARGE", "GOMS_ERR_BODY_TIMEOUT"]);

/**
 * Answers with the JSON error body. `status` overrides the mapping of
 * httpStatus(). Always sets x-goms-ret. Headers set earlier on `res` are kept.
 * When the response has already started, the connection is destroyed instead.
 */
export function sendError(res: ServerResponse, err: unknown, status?: number, headers?: Record<string, string>): void {
  const e = GomsError.from(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e.reason !== undefined && CLOSES_CONNECTION.has(e.reason)) res.setHeader("connection", "close");
  res.setHeader("x-goms-ret", String(e.ret));
  sendJsonText(res, status ?? httpStatus(e.code, e.reason), JSON.stringify(errorBody(e)), headers);
}

/** Answers with `value` as JSON. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Readonly<Record<string, string | string[]>>): void {
  sendJsonText(res, status, JSON.stringify(value), headers);
}

/** Answers with `text`, already serialized JSON (the gateway's transcoded responses). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers?: Readonly<Record<string, string | string[]>>): void {
  // writeHead with a flat list skips the per-response header map of setHeader;
  // headers set earlier on `res` are still sent, those given here win.
  const list: OutgoingHttpHeader[] = ["content-type", "application/json", "content-length", Buffer.byteLength(text)];
  if (headers) for (const k in headers) list.push(k, headers[k]!);
  res.writeHead(status, list).end(text);
}
