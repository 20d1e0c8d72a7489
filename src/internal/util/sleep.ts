/**
 * Resolves after `ms`, or early (without throwing) when `signal` aborts, so a
 * retry loop can sleep and still stop at once on close. The timer and the
 * abort listener are both released whichever fires first.
 */
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
