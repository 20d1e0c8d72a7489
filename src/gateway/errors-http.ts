import type { ServerResponse } from "node:http";
import { Code, codeToString, GomsError } from "../errors/index.js";

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

export function httpStatus(code: Code): number {
  return STATUS[code] ?? 500;
}

/** The JSON error body. */
export interface ErrorBody {
  code: string;
  message: string;
  ret?: number;
  details?: Array<{ type: string; value: string }>;
}

export function errorBody(e: GomsError): ErrorBody {
  const body: ErrorBody = { code: codeToString(e.code), message: e.rawMessage };
  if (e.ret !== 0) body.ret = e.ret;
  if (e.details.length > 0) body.details = e.details.map((d) => ({ type: d.type, value: Buffer.from(d.value).toString("base64") }));
  return body;
}

/**
 * Answers with a JSON error. `status` overrides the code's mapping (413, 405, 415, 408).
 * Always sets x-goms-ret.
 */
export function sendError(res: ServerResponse, err: unknown, status?: number, headers?: Record<string, string>): void {
  const e = GomsError.from(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(errorBody(e));
  res.statusCode = status ?? httpStatus(e.code);
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.setHeader("x-goms-ret", String(e.ret));
  if (headers) for (const k in headers) res.setHeader(k, headers[k]!);
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  if (headers) for (const k in headers) res.setHeader(k, headers[k]!);
  res.end(text);
}

export { GomsError, Code };
