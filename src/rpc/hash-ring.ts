/** FNV-1a 32-bit hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A consistent-hash ring with virtual points. Adding or removing a member
 * moves only the keys that hashed to it.
 */
export class HashRing<T> {
  private readonly points: number[] = [];
  private readonly owners: T[] = [];

  constructor(members: readonly { id: string; value: T }[], replicas = 100) {
    const all: [number, T][] = [];
    for (const m of members) for (let i = 0; i < replicas; i++) all.push([fnv1a(`${m.id}#${i}`), m.value]);
    all.sort((a, b) => a[0] - b[0]);
    for (const [p, v] of all) {
      this.points.push(p);
      this.owners.push(v);
    }
  }

  get size(): number {
    return this.points.length;
  }

  /** The owner of `key`, or the next owners clockwise for which `ok` holds. */
  lookup(key: string, ok: (v: T) => boolean = () => true): T | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const h = fnv1a(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < n; i++) {
      const v = this.owners[(lo + i) % n]!;
      if (ok(v)) return v;
    }
    return undefined;
  }
}
