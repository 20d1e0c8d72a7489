import { Code, GomsError, gomsError } from "../errors/index.js";

/** Metadata key carrying the revision a client should resume watching from. */
export const RESUME_REVISION_KEY = "goms-watch-resume-revision";
/** Metadata key carrying the oldest revision still in the history. */
export const OLDEST_REVISION_KEY = "goms-watch-oldest-revision";

/** Metadata key of a watch answer error: the revision of the event that does not fit the client's answer limit. */
export const EVENT_TOO_LARGE_KEY = "goms-watch-event-too-large";

/**
 * One event does not fit the largest answer the client accepts, even without
 * its previous value. Retrying cannot help, so the watch ends with this; the
 * metadata says where to resume to skip the event.
 */
export function eventTooLargeError(revision: number, bytes: number, limit: number): GomsError {
  return gomsError("GOMS_ERR_WATCH_EVENT_TOO_LARGE", { revision, bytes, limit }, {
    metadata: { [RESUME_REVISION_KEY]: String(revision + 1), [EVENT_TOO_LARGE_KEY]: String(revision) },
  });
}

/** The watch history no longer holds `requested`: the client must list, then watch. */
export function compactedError(requested: number, oldest: number): GomsError {
  return new GomsError(
    `compacted: resume from revision ${String(requested)} requires a full resync (oldest available revision is ${String(oldest)})`,
    Code.OutOfRange,
    { metadata: { [RESUME_REVISION_KEY]: String(requested), [OLDEST_REVISION_KEY]: String(oldest) } },
  );
}

/** A watcher did not drain its queue in time; it may resume from `resumeFrom`. */
export function watcherBehindError(resumeFrom: number): GomsError {
  return new GomsError(`watcher fell behind; resume from revision ${String(resumeFrom)}`, Code.ResourceExhausted, {
    metadata: { [RESUME_REVISION_KEY]: String(resumeFrom) },
  });
}

export function revisionMismatch(key: string, expected: number, actual: number): GomsError {
  return new GomsError(
    `revision mismatch for key ${JSON.stringify(key)}: expected ${String(expected)}, found ${String(actual)}`,
    Code.FailedPrecondition,
  );
}

export function invalidArgument(message: string): GomsError {
  return new GomsError(message, Code.InvalidArgument);
}

export function dataLoss(message: string, cause?: unknown): GomsError {
  return new GomsError(message, Code.DataLoss, cause === undefined ? {} : { cause });
}

function revisionFrom(err: unknown, key: string): number | undefined {
  if (!GomsError.is(err)) return undefined;
  const raw = err.metadata[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The resume revision carried by a watch error (fell behind / compacted), if any. */
export function resumeRevisionOf(err: unknown): number | undefined {
  return revisionFrom(err, RESUME_REVISION_KEY);
}

/** The oldest available revision carried by a compacted error, if any. */
export function oldestRevisionOf(err: unknown): number | undefined {
  return revisionFrom(err, OLDEST_REVISION_KEY);
}

/**
 * A watch or poll asked for a revision the store has not reached: the server lost its
 * state (an in-memory server restarted). The client must resync like after
 * a compaction, so this is OutOfRange with the same metadata.
 */
export function aheadError(requested: number, revision: number, oldest: number): GomsError {
  return new GomsError(
    `revision ${String(requested)} is ahead of the store (revision ${String(revision)}): the server lost its state; resync`,
    Code.OutOfRange,
    { metadata: { [RESUME_REVISION_KEY]: String(requested), [OLDEST_REVISION_KEY]: String(oldest) } },
  );
}
