import { GomsError } from "../errors/goms-error.js";

/** A call's trailing metadata as goms/web reports it (header names to values). */
export type Trailer = Record<string, string>;

/**
 * WebCallOptions.onTrailer: once per call, however it ends, with the
 * handler's ctx.responseMetadata and ctx.ret as the gateway relayed them; for
 * an error, the error's metadata and ret; for a stream left early or aborted,
 * {} and 0.
 */
export type TrailerListener = (trailer: Trailer, ret: number) => void;

/** What a clean end carried. */
export interface CallEnd {
  readonly ret: number;
  readonly trailer: Trailer;
}

/**
 * The ret and trailer of a JSON status from the gateway (a stream's end
 * event, a WebSocket close reason, an error body: docs/gateway.md "Streams"),
 * ignoring what is not a number or a map of strings.
 */
export function statusEnd(s: { ret?: unknown; trailer?: unknown }): CallEnd {
  const ret = typeof s.ret === "number" ? s.ret : 0;
  const trailer: Trailer = {};
  if (typeof s.trailer === "object" && s.trailer !== null) {
    for (const [k, v] of Object.entries(s.trailer)) if (typeof v === "string") trailer[k] = v;
  }
  return { ret, trailer };
}

/** What `on` hears of a call that failed with `e`. */
export function failedEnd(e: unknown): CallEnd {
  const g = GomsError.from(e);
  return { ret: g.ret, trailer: { ...g.metadata } };
}

/**
 * The messages of `source`, a stream whose generator returns what its clean
 * end carried, with `on` told once how the stream ended (TrailerListener).
 * Leaving the loop early returns `source` too, which cancels the stream.
 */
export async function* reportEnd<T>(source: AsyncGenerator<T, CallEnd>, on: TrailerListener | undefined): AsyncGenerator<T, CallEnd> {
  if (on === undefined) return yield* source;
  // What a stream left before its end (or aborted) reports.
  let end: CallEnd = { ret: 0, trailer: {} };
  try {
    end = yield* source;
    return end;
  } catch (e) {
    end = failedEnd(e);
    throw e;
  } finally {
    on(end.trailer, end.ret);
  }
}
