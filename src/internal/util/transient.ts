import { Code, GomsError } from "../../errors/index.js";

/** Errors worth retrying: the backend is down, slow or restarting. */
export function isTransient(err: unknown): boolean {
  if (!GomsError.is(err)) return false;
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.ResourceExhausted || err.code === Code.Aborted;
}
