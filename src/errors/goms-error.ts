import { Code, codeToString, isCode } from "./code.js";

/** An error detail: a type URL (or name) and its protobuf-encoded value, as google.protobuf.Any. */
export interface ErrorDetail {
  readonly type: string;
  readonly value: Uint8Array;
}

export interface GomsErrorOptions {
  readonly details?: readonly ErrorDetail[];
  readonly cause?: unknown;
  /** Application return code (the Go version's uint16 ret), 0..65535. */
  readonly ret?: number;
  readonly metadata?: Readonly<Record<string, string>>;
}

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

  constructor(message: string, code: Code = Code.Unknown, options: GomsErrorOptions = {}) {
    super(formatMessage(message, code), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details ?? [];
    this.ret = options.ret ?? 0;
    this.metadata = options.metadata ?? {};
  }

  /**
   * Converts anything thrown into a GomsError. A GomsError is returned as is;
   * an AbortError/TimeoutError from an AbortSignal maps to canceled/deadline_exceeded;
   * anything else becomes `code` (default unknown) with the original as cause.
   */
  static from(reason: unknown, code: Code = Code.Unknown): GomsError {
    if (reason instanceof GomsError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError") return new GomsError(reason.message || "operation aborted", Code.Canceled, { cause: reason });
      if (reason.name === "TimeoutError") return new GomsError(reason.message || "deadline exceeded", Code.DeadlineExceeded, { cause: reason });
      return new GomsError(reason.message, code, { cause: reason });
    }
    if (typeof reason === "string") return new GomsError(reason, code);
    return new GomsError(String(reason), code, { cause: reason });
  }

  /** Like `instanceof GomsError`, but also true for errors from another copy of goms. */
  static is(value: unknown): value is GomsError {
    if (value instanceof GomsError) return true;
    if (!(value instanceof Error) || value.name !== "GomsError") return false;
    const c = (value as { code?: unknown }).code;
    return typeof c === "number" && isCode(c);
  }
}

function formatMessage(message: string, code: Code): string {
  return message.length ? `[${codeToString(code)}] ${message}` : `[${codeToString(code)}]`;
}
