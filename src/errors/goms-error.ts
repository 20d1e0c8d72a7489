import { Code, codeToString, isCode } from "./code.js";

/** An error detail: a type URL (or name) and its protobuf-encoded value, as google.protobuf.Any. */
export interface ErrorDetail {
  readonly type: string;
  readonly value: Uint8Array;
}

export interface GomsErrorOptions {
  readonly details?: readonly ErrorDetail[];
  readonly cause?: unknown;
  /** Application return code, 0..65535. */
  readonly ret?: number;
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Stable id of the situation, e.g. "GOMS_ERR_DEADLINE_EXCEEDED" (src/errors/reasons.ts,
   * docs/errors.md). Applications may use their own ids for their own errors.
   */
  readonly reason?: string;
}

/**
 * Marks goms errors across copies of the package. Symbol.for is shared by every
 * module instance in the process, so an error made by a second installed copy
 * (a dependency that bundles its own goms) still carries the same brand, while
 * its class is a different object that a plain `instanceof` would reject.
 */
const BRAND = Symbol.for("goms.error");

/**
 * The one error class of goms. Every failed call rejects with a GomsError,
 * whatever went wrong: network, deadline, handler, decoding.
 */
export class GomsError extends Error {
  override readonly name = "GomsError";
  readonly code: Code;
  /** The message without the "[code]" prefix. */
  readonly rawMessage: string;
  readonly details: readonly ErrorDetail[];
  /** Application return code that travelled beside the error (0 when none). */
  readonly ret: number;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Stable reason id (docs/errors.md) when goms knows the situation precisely;
   * branch on it rather than on the message text. Local only: it does not
   * travel on the wire, so an error received from a remote node has none.
   */
  readonly reason: string | undefined;

  constructor(message: string, code: Code = Code.Unknown, options: GomsErrorOptions = {}) {
    super(formatMessage(message, code), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details ?? [];
    this.ret = options.ret ?? 0;
    this.metadata = options.metadata ?? {};
    this.reason = options.reason;
  }

  /**
   * Converts anything thrown into a GomsError. A GomsError of this copy is
   * returned as is; one from another copy of goms is rebuilt with the same code,
   * message, ret, details, metadata, cause, reason and stack; an
   * AbortError/TimeoutError from an AbortSignal maps to canceled/deadline_exceeded,
   * unless the AbortError's cause (the signal's reason, as Node's timers, events
   * and streams give it) is a GomsError: a handler waiting on ctx.signal when the
   * deadline passed then reports deadline_exceeded, not canceled;
   * anything else becomes `code` (default unknown) with the original as cause.
   */
  static from(reason: unknown, code: Code = Code.Unknown): GomsError {
    if (isOwn(reason)) return reason;
    if (isBranded(reason)) return adopt(reason);
    if (reason instanceof Error) {
      if (reason.name === "AbortError" && isBranded(reason.cause)) return GomsError.from(reason.cause);
      if (reason.name === "AbortError") return new GomsError(reason.message || "operation aborted", Code.Canceled, { cause: reason });
      if (reason.name === "TimeoutError") return new GomsError(reason.message || "deadline exceeded", Code.DeadlineExceeded, { cause: reason });
      return new GomsError(reason.message, code, { cause: reason });
    }
    if (typeof reason === "string") return new GomsError(reason, code);
    return new GomsError(String(reason), code, { cause: reason });
  }

  /** True for a GomsError of this or of another copy of goms (the same test `from` uses). */
  static is(value: unknown): value is GomsError {
    return isBranded(value);
  }

  /**
   * `e instanceof GomsError` is true for errors from another copy of goms too.
   * Subclasses (`e instanceof MyError`) keep the ordinary prototype test:
   * their class is this copy's, so the brand says nothing about them.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== GomsError) return ordinaryInstanceOf(this, value);
    return isBranded(value);
  }
}

// On the prototype rather than per instance: free to construct, still inherited by subclasses.
Object.defineProperty(GomsError.prototype, BRAND, { value: true });

function ordinaryInstanceOf(ctor: unknown, value: unknown): boolean {
  return Function.prototype[Symbol.hasInstance].call(ctor, value);
}

function isOwn(value: unknown): value is GomsError {
  return ordinaryInstanceOf(GomsError, value);
}

function isBranded(value: unknown): value is GomsError {
  if (typeof value !== "object" || value === null) return false;
  if ((value as { [BRAND]?: unknown })[BRAND] !== true) return false;
  const c = (value as { code?: unknown }).code;
  return typeof c === "number" && isCode(c);
}

/** A GomsError of this copy from one of another copy, read defensively: that copy may be older or newer. */
function adopt(foreign: GomsError): GomsError {
  const f = foreign as Partial<GomsError> & Error;
  const raw = typeof f.rawMessage === "string" ? f.rawMessage : f.message;
  const e = new GomsError(raw, foreign.code, {
    details: Array.isArray(f.details) ? f.details : [],
    ret: typeof f.ret === "number" ? f.ret : 0,
    metadata: typeof f.metadata === "object" && f.metadata !== null ? f.metadata : {},
    cause: f.cause,
    ...(typeof f.reason === "string" ? { reason: f.reason } : {}),
  });
  if (typeof f.stack === "string") e.stack = f.stack;
  return e;
}

function formatMessage(message: string, code: Code): string {
  return message.length ? `[${codeToString(code)}] ${message}` : `[${codeToString(code)}]`;
}
