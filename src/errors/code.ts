/**
 * The closed set of goms status codes. Numeric values are stable, appear on the
 * wire (docs/protocol.md) and match gRPC's so that mapping is trivial.
 * See docs/errors.md for what each code means and when goms produces it.
 */
export enum Code {
  /** The call was canceled by the caller (its AbortSignal fired, or a CANCEL frame arrived). */
  Canceled = 1,
  /** An error with no better code; also used for non-goms errors thrown by handlers. */
  Unknown = 2,
  /** The request is malformed: undecodable payload, invalid JSON, bad field values. */
  InvalidArgument = 3,
  /** The deadline passed before the call completed. */
  DeadlineExceeded = 4,
  /** The service, method, node or key does not exist. */
  NotFound = 5,
  /** The entity the caller tried to create already exists. */
  AlreadyExists = 6,
  /** The caller is authenticated but not allowed to do this. */
  PermissionDenied = 7,
  /** A limit was hit: concurrent calls, frame size, buffered bytes, rate. */
  ResourceExhausted = 8,
  /** The system is not in a state that allows the operation (e.g. revision mismatch). */
  FailedPrecondition = 9,
  /** The operation was aborted, typically by a concurrency conflict. */
  Aborted = 10,
  /** A value is outside its valid range. */
  OutOfRange = 11,
  /** The method is not implemented by the node. */
  Unimplemented = 12,
  /** An invariant broke: a bug in goms or in a handler. */
  Internal = 13,
  /** No node can serve the call right now (not connected, draining, connection lost). Safe to retry. */
  Unavailable = 14,
  /** Unrecoverable data loss or corruption. */
  DataLoss = 15,
  /** The caller did not present valid credentials. */
  Unauthenticated = 16,
}

const names: Record<Code, string> = {
  [Code.Canceled]: "canceled",
  [Code.Unknown]: "unknown",
  [Code.InvalidArgument]: "invalid_argument",
  [Code.DeadlineExceeded]: "deadline_exceeded",
  [Code.NotFound]: "not_found",
  [Code.AlreadyExists]: "already_exists",
  [Code.PermissionDenied]: "permission_denied",
  [Code.ResourceExhausted]: "resource_exhausted",
  [Code.FailedPrecondition]: "failed_precondition",
  [Code.Aborted]: "aborted",
  [Code.OutOfRange]: "out_of_range",
  [Code.Unimplemented]: "unimplemented",
  [Code.Internal]: "internal",
  [Code.Unavailable]: "unavailable",
  [Code.DataLoss]: "data_loss",
  [Code.Unauthenticated]: "unauthenticated",
};

const byName = new Map<string, Code>(
  (Object.entries(names) as [string, string][]).map(([k, v]) => [v, Number(k) as Code]),
);

/** The stable snake_case name of a code, e.g. "deadline_exceeded". */
export function codeToString(code: Code): string {
  return names[code] ?? `code_${String(code)}`;
}

/** Parses a snake_case code name; undefined when it is not a goms code. */
export function codeFromString(name: string): Code | undefined {
  return byName.get(name);
}

/** True when n is one of the closed set of codes. */
export function isCode(n: number): n is Code {
  return Number.isInteger(n) && n >= 1 && n <= 16;
}
