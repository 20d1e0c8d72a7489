// The console's view of the admin JSON API (docs/admin.md).

export type Role = "viewer" | "operator" | "admin";

// Response types shared with the server (src/admin/api-types.ts).
import type { FieldSchema, HostStatus, MethodSchema, NodeSummary, ProcessesView, SeriesPoint, ServiceSchema } from "../../src/admin/api-types.js";

export type { FieldSchema, HostStatus, MethodSchema, NodeSummary, ProcessesView, SeriesPoint, ServiceSchema };

export type ProcessRow = ProcessesView["processes"][number];

export interface AuditEntry {
  time: string;
  user: string;
  ip: string;
  action: string;
  target: string;
  outcome: "ok" | "denied" | "error";
  detail?: string;
}

export interface KeyView {
  key: string;
  lease: string;
  modRevision: number;
  size: number;
  kind: "registration" | "text" | "base64";
  value: unknown;
}

export interface Me {
  user: string;
  role: Role;
  csrf: string;
}

/** A failed API request, from the error body every goms HTTP server sends: {code, message, reason?}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** goms code name, e.g. "not_found" ("" when the body was not a goms error). */
    readonly code: string,
    /** Stable reason id (docs/errors.md), e.g. "GOMS_ERR_TOO_MANY_ATTEMPTS". */
    readonly reason: string | undefined,
  ) {
    super(message);
  }
}

let csrf = "";

export function setCsrf(token: string): void {
  csrf = token;
}

async function parse<T>(r: Response): Promise<T> {
  const text = await r.text();
  const body = (text ? JSON.parse(text) : {}) as unknown;
  if (!r.ok) {
    const e = body as { code?: string; message?: string; reason?: string };
    throw new ApiError(r.status, e.message ?? `HTTP ${r.status}`, e.code ?? "", e.reason);
  }
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { credentials: "same-origin" }));
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    }),
  );
}

export function canOperate(role: Role | undefined): boolean {
  return role === "operator" || role === "admin";
}
