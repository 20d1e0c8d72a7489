import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { backoffDelay } from "../internal/util/backoff.js";
import { sleep } from "../internal/util/sleep.js";

/** How resumeStream reopens a stream that failed. */
export interface ResumeOptions {
  /** Ends the stream, an attempt in flight or a wait between attempts alike (with `canceled`, or the signal's GomsError reason). */
  readonly signal?: AbortSignal;
  /** Which failures reopen the stream. Default: `unavailable` (the gateway or a node went away) and `deadline_exceeded` (the attempt's deadline, e.g. the gateway's cap on a stream). */
  readonly retryable?: (error: GomsError) => boolean;
  /** The first wait after a failure, in ms (default 100). Each failure in a row without a message doubles it, up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  /** The longest wait between attempts, in ms (default 5000). */
  readonly maxDelayMs?: number;
  /**
   * Failures in a row, with no message between them, after which the last is
   * thrown (default Infinity: follow until stopped). The failure that ends an
   * attempt after its messages is the first of a row; 1 means never reopen.
   */
  readonly maxAttempts?: number;
  /** Told before each wait: what failed, which attempt in a row this was (from 1), and how long the wait is. For a status line; it must not throw. */
  readonly onRetry?: (info: { error: GomsError; attempt: number; delayMs: number }) => void;
}

function checkDelay(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new GomsError(`resumeStream: ${name} must be a finite number >= 0, got ${v}`, Code.InvalidArgument);
}

const defaultRetryable = (e: GomsError): boolean => e.code === Code.Unavailable || e.code === Code.DeadlineExceeded;

/** A server-streaming client method (goms/web or goms/rpc): `db.watch`. */
export type ServerStreamMethod<Req, Res, O> = (request: Req, options?: O) => AsyncIterable<Res>;

/**
 * Follows a server stream across failures: calls `method(request(last),
 * { ...options.call, signal })` again after each failure `retryable`
 * accepts, where `last` is the last message the stream gave (undefined the
 * first time). A server that can start after a given message then loses and
 * doubles nothing; one whose stream starts with the current state
 * (`DB.Watch`) just asks for the same key again. Waits between attempts
 * back off exponentially with jitter, and start again short once an attempt
 * delivers a message. A clean end ends the iteration; a failure `retryable`
 * refuses is thrown as is. Leaving the loop, or `options.signal`, aborts the
 * call in flight (the helper passes the signal itself).
 *
 * `method` is any typed client's server-stream method, from goms/web or
 * goms/rpc (`resumeStream(db.watch, () => ({ key }))`): it comes first so
 * that TypeScript infers the request and message types from it, and `last`
 * is typed.
 *
 * Why it exists: the gateway bounds every stream by a deadline, and browsers
 * lose connections; without it each page writes its own reopen loop, and
 * the usual bug is a tight loop against a server that is down.
 */
export function resumeStream<Req, Res, O extends { signal?: AbortSignal | undefined }>(
  method: ServerStreamMethod<Req, Res, O>,
  request: (last: Res | undefined) => Req,
  options: ResumeOptions & { readonly call?: Omit<O, "signal"> } = {},
): AsyncIterable<Res> {
  const { initialDelayMs = 100, maxDelayMs = 5000, maxAttempts = Number.POSITIVE_INFINITY, retryable = defaultRetryable } = options;
  checkDelay("initialDelayMs", initialDelayMs);
  checkDelay("maxDelayMs", maxDelayMs);
  if (maxDelayMs < initialDelayMs) throw new GomsError(`resumeStream: maxDelayMs (${maxDelayMs}) is below initialDelayMs (${initialDelayMs})`, Code.InvalidArgument);
  if (!(maxAttempts >= 1)) throw new GomsError(`resumeStream: maxAttempts must be >= 1, got ${maxAttempts}`, Code.InvalidArgument);
  // Omit<O, "signal"> plus a signal is an O; TypeScript cannot prove it for a generic O.
  const open = (last: Res | undefined, signal: AbortSignal): AsyncIterable<Res> => method(request(last), { ...options.call, signal } as O);
  return follow(open, options.signal, { initialDelayMs, maxDelayMs, maxAttempts, retryable, onRetry: options.onRetry });
}

interface Policy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  retryable: (error: GomsError) => boolean;
  onRetry: ResumeOptions["onRetry"];
}

async function* follow<T>(open: (last: T | undefined, signal: AbortSignal) => AsyncIterable<T>, outer: AbortSignal | undefined, p: Policy): AsyncGenerator<T, void, undefined> {
  // Our own controller: leaving the loop early must also end an attempt whose call ignored return().
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(outer?.reason);
  if (outer?.aborted === true) onAbort();
  outer?.addEventListener("abort", onAbort);
  let last: T | undefined;
  let failures = 0;
  try {
    for (;;) {
      if (ac.signal.aborted) throw canceled(ac.signal);
      try {
        for await (const m of open(last, ac.signal)) {
          last = m;
          failures = 0;
          yield m;
        }
        return;
      } catch (e) {
        if (ac.signal.aborted) throw canceled(ac.signal, e);
        const error = GomsError.from(e);
        if (!p.retryable(error) || ++failures >= p.maxAttempts) throw error;
        // Half fixed, half random: clients cut off together do not come back together.
        const delayMs = backoffDelay(failures - 1, { initialMs: p.initialDelayMs, maxMs: p.maxDelayMs });
        p.onRetry?.({ error, attempt: failures, delayMs });
        await sleep(delayMs, ac.signal); // resolves early on abort: the loop's first line throws canceled
      }
    }
  } finally {
    outer?.removeEventListener("abort", onAbort);
    ac.abort(new GomsError("the stream was left early", Code.Canceled));
  }
}

function canceled(signal: AbortSignal, cause?: unknown): GomsError {
  return GomsError.is(signal.reason) ? signal.reason : new GomsError("the stream was canceled", Code.Canceled, { cause: cause ?? signal.reason });
}
