/**
 * Latency histogram buckets shared by MethodStats (proto/goms/v1/monitor.proto):
 * upper bounds in ms; the last bucket (index BUCKET_BOUNDS_MS.length) is +Inf.
 */
export const BUCKET_BOUNDS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** Number of buckets including +Inf. */
export const BUCKET_COUNT = BUCKET_BOUNDS_MS.length + 1;

/** Index of the bucket holding `ms` (le semantics: a value equal to a bound belongs to that bound). */
export function bucketIndex(ms: number): number {
  const b = BUCKET_BOUNDS_MS;
  let i = 0;
  while (i < b.length && ms > b[i]!) i++;
  return i;
}

/**
 * Estimates the q-quantile (0..1) from per-bucket counts (not cumulative), by
 * linear interpolation inside the bucket that holds the rank. The +Inf bucket
 * interpolates up to `maxMs` (the largest value seen) when given, else returns
 * its lower bound. The result never exceeds `maxMs` when that is given.
 */
export function quantileFromBuckets(counts: ArrayLike<number>, q: number, maxMs?: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lower = i === 0 ? 0 : BUCKET_BOUNDS_MS[i - 1]!;
      const upper = i < BUCKET_BOUNDS_MS.length ? BUCKET_BOUNDS_MS[i]! : (maxMs ?? lower);
      const est = lower + ((upper - lower) * (rank - seen)) / c;
      return maxMs !== undefined && maxMs > 0 ? Math.min(est, maxMs) : est;
    }
    seen += c;
  }
  return maxMs ?? BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.length - 1]!;
}
