/** Small statistics and formatting helpers for the parent. */

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export function fmtInt(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return Math.round(x).toLocaleString("en-US");
}

export function fmtNum(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return "n/a";
  return x.toFixed(digits);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return `${x.toFixed(2)}x`;
}
