import { Code, GomsError } from "../errors/index.js";

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Errors worth retrying: the backend is down, slow or restarting. */
export function isTransient(err: unknown): boolean {
  if (!GomsError.is(err)) return false;
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.ResourceExhausted || err.code === Code.Aborted;
}
