/** Exponential backoff with "equal jitter": each delay lies between half the cap and the cap, so retries that started together spread out but never come back at once. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 50, maxMs: 5000 };

export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 20));
  return Math.floor(cap / 2 + random() * (cap / 2));
}
