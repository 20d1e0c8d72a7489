import { Code } from "./code.js";
import { GomsError, type GomsErrorOptions } from "./goms-error.js";

/**
 * One catalog entry: the code every error with this reason carries, the HTTP
 * status when it differs from the code's usual one (src/internal/http), and the
 * message built from the entry's parameters.
 */
interface ReasonEntry {
  readonly code: Code;
  readonly status?: number;
  // `never` parameter: every one-argument (or no-argument) template fits the catalog type.
  readonly message: (params: never) => string;
}

/**
 * Every reason goms itself produces. Ids are stable (code may branch on them)
 * and each one is documented in docs/errors.md; the messages are for humans and
 * may change. Add a reason here, then to docs/errors.md (a test checks both lists agree).
 */
export const REASONS = {
  // ---- calls -----------------------------------------------------------------
  GOMS_ERR_DEADLINE_EXCEEDED: { code: Code.DeadlineExceeded, message: (p: { ms?: number }) => (p.ms === undefined ? "deadline exceeded" : `deadline of ${p.ms}ms exceeded`) },
  GOMS_ERR_CANCELED: { code: Code.Canceled, message: (p: { why: string }) => `canceled: ${p.why}` },
  GOMS_ERR_NO_NODE: { code: Code.Unavailable, message: (p: { service: string }) => `no node hosting ${p.service} is available` },
  GOMS_ERR_NODE_NOT_CONNECTED: { code: Code.Unavailable, message: (p: { node: string }) => `node ${p.node} is not connected` },
  GOMS_ERR_NODE_DRAINING: { code: Code.Unavailable, message: (p: { node?: string }) => (p.node === undefined ? "the node is shutting down" : `node ${p.node} is shutting down`) },
  GOMS_ERR_NODE_NOT_RUNNING: { code: Code.Unavailable, message: (p: { node: string; state: string }) => `node ${p.node} is ${p.state}` },
  GOMS_ERR_CONNECTION_LOST: { code: Code.Unavailable, message: (p: { why: string }) => `connection lost: ${p.why}` },
  GOMS_ERR_CONNECT_FAILED: { code: Code.Unavailable, message: (p: { address: string; why: string }) => `connect to ${p.address} failed: ${p.why}` },
  GOMS_ERR_UNKNOWN_SERVICE: { code: Code.NotFound, message: (p: { service: string }) => `unknown service ${p.service}` },
  GOMS_ERR_UNKNOWN_METHOD: { code: Code.Unimplemented, message: (p: { service: string; method: string }) => `${p.service} has no method ${p.method}` },
  GOMS_ERR_AMBIGUOUS_SERVICE: { code: Code.InvalidArgument, message: (p: { service: string; matches: readonly string[] }) => `service name ${p.service} is ambiguous: ${p.matches.join(", ")}` },
  GOMS_ERR_TOO_MANY_CALLS: { code: Code.ResourceExhausted, message: (p: { limit: number }) => `too many concurrent calls (limit ${p.limit})` },
  GOMS_ERR_FRAME_TOO_LARGE: { code: Code.ResourceExhausted, message: (p: { what: string; bytes: number; limit: number }) => `${p.what} of ${p.bytes} bytes exceeds the frame limit of ${p.limit}` },
  GOMS_ERR_PEER_NOT_READING: { code: Code.ResourceExhausted, message: (p: { bytes: number }) => `peer is not reading: ${p.bytes} bytes buffered` },
  GOMS_ERR_BAD_PAYLOAD: { code: Code.InvalidArgument, message: (p: { type: string; why: string }) => `cannot decode ${p.type}: ${p.why}` },
  GOMS_ERR_BAD_RESPONSE: { code: Code.Internal, message: (p: { why: string }) => `malformed response: ${p.why}` },
  GOMS_ERR_UNAUTHENTICATED: { code: Code.Unauthenticated, message: (p: { why: string }) => p.why },
  GOMS_ERR_BAD_STATE: { code: Code.FailedPrecondition, message: (p: { why: string }) => p.why },
  GOMS_ERR_INVALID_OPTION: { code: Code.InvalidArgument, message: (p: { option: string; problem: string }) => `${p.option}: ${p.problem}` },
  GOMS_ERR_STREAM_UNSUPPORTED: { code: Code.Unimplemented, message: (p: { method: string; kind: string; how: string }) => `${p.method} is a ${p.kind} method: ${p.how} does not support it` },

  // ---- HTTP (gateway and admin) ---------------------------------------------
  GOMS_ERR_NO_ROUTE: { code: Code.NotFound, message: (p: { path: string }) => `no route for ${p.path}` },
  GOMS_ERR_METHOD_NOT_ALLOWED: { code: Code.InvalidArgument, status: 405, message: (p: { method: string; allow: string }) => `${p.method} is not allowed; use ${p.allow}` },
  GOMS_ERR_UNSUPPORTED_MEDIA_TYPE: { code: Code.InvalidArgument, status: 415, message: (p: { type: string; want: string }) => `content type ${p.type} is not supported; send ${p.want}` },
  GOMS_ERR_BODY_TOO_LARGE: { code: Code.ResourceExhausted, status: 413, message: (p: { limit: number }) => `request body exceeds ${p.limit} bytes` },
  GOMS_ERR_BODY_TIMEOUT: { code: Code.DeadlineExceeded, status: 408, message: (p: { ms: number }) => `request body not received within ${p.ms} ms` },
  GOMS_ERR_CLIENT_GONE: { code: Code.Canceled, message: (p: { why: string }) => `the HTTP client went away: ${p.why}` },
  GOMS_ERR_BAD_JSON: { code: Code.InvalidArgument, message: (p: { what: string; why: string }) => `invalid ${p.what} JSON: ${p.why}` },
  GOMS_ERR_BAD_FIELD: { code: Code.InvalidArgument, message: (p: { field: string; problem: string }) => `${p.field}: ${p.problem}` },
  GOMS_ERR_BAD_HEADER: { code: Code.InvalidArgument, message: (p: { header: string; problem: string }) => `${p.header}: ${p.problem}` },
  GOMS_ERR_RATE_LIMITED: { code: Code.ResourceExhausted, status: 429, message: (p: { what: string; retryAfterSec: number }) => `${p.what} rate limit exceeded; retry in ${p.retryAfterSec} s` },
  GOMS_ERR_RATE_LIMIT_FULL: { code: Code.ResourceExhausted, status: 429, message: (p: { keys: number; retryAfterSec: number }) => `the rate limiter already tracks ${p.keys} clients, none idle; new clients may retry in ${p.retryAfterSec} s` },
  GOMS_ERR_CORS_DENIED: { code: Code.PermissionDenied, message: (p: { why: string }) => `CORS: ${p.why}` },
  GOMS_ERR_GATEWAY_DRAINING: { code: Code.Unavailable, message: () => "the gateway is shutting down" },
  GOMS_ERR_BACKENDS_BUSY: { code: Code.Unavailable, message: (p: { service: string; why: string }) => `every node serving ${p.service} refused the call: ${p.why}` },
  GOMS_ERR_STREAM_NEEDS_WEBSOCKET: { code: Code.InvalidArgument, status: 400, message: (p: { route: string }) => `${p.route} is a client or bidi stream: open a WebSocket on this path` },
  GOMS_ERR_ROUTE_BUSY: { code: Code.Unavailable, message: (p: { route: string; limit: number }) => `${p.route} already has ${p.limit} requests in flight at this gateway` },

  // ---- overload: admission, ejection, circuit breaking (docs/resilience.md) -----
  GOMS_ERR_OVERLOADED: { code: Code.ResourceExhausted, message: (p: { limit: number }) => `node is at capacity (concurrency limit ${p.limit}, admission queue full): retry elsewhere` },
  GOMS_ERR_DEADLINE_TOO_SHORT: { code: Code.DeadlineExceeded, message: (p: { leftMs: number; typicalMs: number }) => `${p.leftMs}ms left, but this method typically takes ${p.typicalMs}ms` },

  // ---- wire protocol and connection bounds --------------------------------------
  // (add connection/handshake/protocol reasons here)
  GOMS_ERR_PROTOCOL_ERROR: { code: Code.InvalidArgument, message: (p: { why: string }) => `protocol error: ${p.why}` },
  GOMS_ERR_IDLE_TIMEOUT: { code: Code.Unavailable, message: (p: { ms: number }) => `idle timeout: nothing received for ${p.ms}ms` },
  GOMS_ERR_BAD_METHOD_NAME: { code: Code.InvalidArgument, message: (p: { method: string }) => `malformed method name ${JSON.stringify(p.method)}: printable ASCII "<package>.<Service>/<Method>" expected` },

  // ---- watch, kv and leases ------------------------------------------------------
  // (add watch/kv/lease limit reasons here)
  GOMS_ERR_KEY_TOO_LARGE: { code: Code.InvalidArgument, message: (p: { bytes: number; limit: number }) => `key of ${p.bytes} bytes exceeds the limit of ${p.limit} bytes (maxKeyBytes)` },
  GOMS_ERR_VALUE_TOO_LARGE: { code: Code.InvalidArgument, message: (p: { bytes: number; limit: number }) => `value of ${p.bytes} bytes exceeds the limit of ${p.limit} bytes (maxValueBytes)` },
  GOMS_ERR_TOO_MANY_LEASES: {
    code: Code.ResourceExhausted,
    message: (p: { limit: number; scope: "server" | "client" }) =>
      p.scope === "server" ? `the server holds its limit of ${p.limit} leases (maxLeases); revoke unused leases or retry after some expire` : `this client holds its limit of ${p.limit} leases (maxLeasesPerClient); revoke or reuse leases`,
  },
  GOMS_ERR_WATCH_EVENT_TOO_LARGE: {
    code: Code.ResourceExhausted,
    message: (p: { revision: number; bytes: number; limit: number }) =>
      `watch event at revision ${p.revision} is ${p.bytes} bytes, more than this client accepts in one answer (${p.limit} bytes): raise the client's maxFrameSize, or skip it by watching from revision ${p.revision + 1}`,
  },

  // ---- monitoring ----------------------------------------------------------------
  // (add monitor push/store reasons here)
  GOMS_ERR_MONITOR_ANONYMOUS_PUSH: { code: Code.Unauthenticated, message: () => "stats push refused: the connection has no node identity (its HELLO named no node)" },
  GOMS_ERR_MONITOR_IDENTITY_MISMATCH: {
    code: Code.PermissionDenied,
    message: (p: { peer: string; pushed: string; why: string }) => `stats push refused: node ${p.peer} may only push its own stats, not ${p.pushed} (${p.why})`,
  },
  GOMS_ERR_MONITOR_NOT_REGISTERED: { code: Code.PermissionDenied, message: (p: { node: string; why: string }) => `stats push refused for node ${p.node}: ${p.why}` },
  GOMS_ERR_MONITOR_TOO_MANY_NODES: { code: Code.ResourceExhausted, message: (p: { node: string; limit: number }) => `stats of node ${p.node} refused: the monitor store already tracks its limit of ${p.limit} nodes` },
  GOMS_ERR_MONITOR_TOO_MANY_METHODS: {
    code: Code.ResourceExhausted,
    message: (p: { node: string; methods: number; limit: number }) => `stats of node ${p.node} refused: ${p.methods} methods, at most ${p.limit} per node`,
  },
  GOMS_ERR_MONITOR_TOO_MANY_PEERS: {
    code: Code.ResourceExhausted,
    message: (p: { node: string; peers: number; limit: number }) => `stats of node ${p.node} refused: ${p.peers} ejected peers, at most ${p.limit} per node`,
  },
  GOMS_ERR_MONITOR_STATS_TOO_LARGE: {
    code: Code.ResourceExhausted,
    message: (p: { node: string; bytes: number; limit: number }) => `stats of node ${p.node} refused: ${p.bytes} bytes, at most ${p.limit} per push`,
  },

  // ---- admin console ----------------------------------------------------------
  GOMS_ERR_NOT_LOGGED_IN: { code: Code.Unauthenticated, message: () => "not logged in" },
  GOMS_ERR_BAD_CREDENTIALS: { code: Code.Unauthenticated, message: () => "bad user or password" },
  GOMS_ERR_TOO_MANY_ATTEMPTS: { code: Code.ResourceExhausted, status: 429, message: (p: { what: string }) => `too many failed ${p.what} attempts; try again later` },
  GOMS_ERR_CSRF: { code: Code.PermissionDenied, message: () => "missing or bad x-csrf-token" },
  GOMS_ERR_ROLE_TOO_LOW: { code: Code.PermissionDenied, message: (p: { role: string; needs: string }) => `role ${p.role} may not do this (needs ${p.needs})` },
  GOMS_ERR_BAD_SETUP_TOKEN: { code: Code.PermissionDenied, message: () => "bad setup token" },
  GOMS_ERR_SETUP_DONE: { code: Code.AlreadyExists, message: () => "setup already done" },
  GOMS_ERR_NOT_CONFIGURED: { code: Code.NotFound, message: (p: { what: string }) => `${p.what} is not configured` },
  GOMS_ERR_NO_MONITOR_DATA: { code: Code.NotFound, message: (p: { node: string }) => `no monitor data for node ${p.node}` },
  GOMS_ERR_UNKNOWN_SUPERVISOR: { code: Code.NotFound, message: (p: { host: string }) => `no supervisor ${p.host}` },
  GOMS_ERR_UNKNOWN_PROCESS: { code: Code.NotFound, message: (p: { host: string; name: string }) => `no process ${p.name} on ${p.host}` },
  GOMS_ERR_UNKNOWN_ACTION: { code: Code.NotFound, message: (p: { action: string }) => `unknown action ${p.action}` },
  GOMS_ERR_SUPERVISOR_FAILED: { code: Code.Unavailable, status: 502, message: (p: { action: string; target: string; why: string }) => `${p.action} ${p.target}: ${p.why}` },
  GOMS_ERR_BAD_URL: { code: Code.InvalidArgument, message: (p: { part: "path" | "query"; problem: string }) => `bad request ${p.part}: ${p.problem}` },
  GOMS_ERR_TOO_MANY_STREAMS: { code: Code.ResourceExhausted, status: 429, message: (p: { limit: number }) => `too many open event streams (limit ${p.limit}); close one and retry` },
  GOMS_ERR_SESSION_ENDED: { code: Code.Unauthenticated, message: (p: { why: string }) => `session ended: ${p.why}` },
} as const satisfies Record<string, ReasonEntry>;

/** A reason id from the catalog. */
export type Reason = keyof typeof REASONS;

/** What the reason's message template takes (undefined when it takes nothing). */
export type ReasonParams<R extends Reason> = Parameters<(typeof REASONS)[R]["message"]>[0];

type ReasonArgs<R extends Reason> = ReasonParams<R> extends undefined
  ? [params?: undefined, options?: Omit<GomsErrorOptions, "reason">]
  : [params: ReasonParams<R>, options?: Omit<GomsErrorOptions, "reason">];

/** True when `id` is a reason of this catalog (a remote or newer copy may send others). */
export function isReason(id: string | undefined): id is Reason {
  return id !== undefined && Object.hasOwn(REASONS, id);
}

/** The HTTP status the catalog sets for `reason`, if any. */
export function reasonStatus(reason: string | undefined): number | undefined {
  return isReason(reason) ? (REASONS[reason] as ReasonEntry).status : undefined;
}

/**
 * Creates the error for a catalog reason: its code, its message from `params`.
 *
 *     throw gomsError("GOMS_ERR_BODY_TOO_LARGE", { limit: 1024 });
 *     throw gomsError("GOMS_ERR_NOT_LOGGED_IN");
 */
export function gomsError<R extends Reason>(reason: R, ...[params, options]: ReasonArgs<R>): GomsError {
  const entry = REASONS[reason];
  const message = (entry.message as (p: ReasonParams<R> | undefined) => string)(params);
  return new GomsError(message, entry.code, { ...options, reason });
}
