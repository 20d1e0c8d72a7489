/**
 * The calls in flight on one connection, keyed by 32-bit call id.
 *
 * Why not a `Map`: a V8 Map replaces its hash table every few dozen
 * insert/delete pairs, and each obsolete table keeps a link to its
 * replacement (so that live iterators can follow). Once one obsolete table
 * has been promoted to the old generation, that dead table keeps the next
 * one alive through the next scavenge, which gets it promoted too, and so on.
 * The tables still reference the calls they held, so the chain dragged the
 * calls, their promises and their responses into the old generation: in the
 * RPC benchmark about a third of all allocation survived each scavenge and
 * young-generation pauses went from 0.4 ms to 3-5 ms (docs/benchmarks.md).
 *
 * This table is open addressing with linear probing over a Uint32Array of
 * ids and a plain array of values; it only reallocates when it grows or
 * shrinks, and a replaced array links to nothing. Deletion shifts the rest
 * of the probe run back, so there are no tombstones. Sequential call ids
 * spread perfectly over `id & mask`.
 */
export class CallTable<T extends object> {
  private ids: Uint32Array;
  private vals: (T | undefined)[];
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.ids = new Uint32Array(cap);
    this.vals = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Slots allocated (a power of two, at least twice the size). */
  get capacity(): number {
    return this.vals.length;
  }

  get(id: number): T | undefined {
    const ids = this.ids;
    const vals = this.vals;
    const mask = this.mask;
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (ids[i] === id) return v;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds or replaces the value for `id`. */
  set(id: number, value: T): void {
    if ((this.count + 1) * 2 > this.vals.length) this.resize(this.vals.length * 2);
    const ids = this.ids;
    const vals = this.vals;
    const mask = this.mask;
    let i = id & mask;
    for (;;) {
      if (vals[i] === undefined) {
        ids[i] = id;
        vals[i] = value;
        this.count++;
        return;
      }
      if (ids[i] === id) {
        vals[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Removes `id`; returns whether it was there. */
  delete(id: number): boolean {
    const ids = this.ids;
    const vals = this.vals;
    const mask = this.mask;
    let i = id & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return false;
      if (ids[i] === id) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; vals[j] !== undefined; j = (j + 1) & mask) {
      const home = ids[j]! & mask;
      // Entry j may move to `hole` unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        ids[hole] = ids[j]!;
        vals[hole] = vals[j];
        hole = j;
      }
    }
    vals[hole] = undefined;
    this.count--;
    const cap = vals.length;
    if (cap > 1024 && this.count * 8 < cap) this.resize(cap / 2);
    return true;
  }

  /** A snapshot of the entries, safe to use while deleting. */
  entries(): [number, T][] {
    const out: [number, T][] = [];
    const vals = this.vals;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined) out.push([this.ids[i]!, v]);
    }
    return out;
  }

  /** A snapshot of the values. */
  values(): T[] {
    const out: T[] = [];
    for (const v of this.vals) if (v !== undefined) out.push(v);
    return out;
  }

  clear(): void {
    this.vals.fill(undefined);
    this.count = 0;
  }

  private resize(cap: number): void {
    const oldIds = this.ids;
    const oldVals = this.vals;
    this.ids = new Uint32Array(cap);
    this.vals = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldVals.length; i++) {
      const v = oldVals[i];
      if (v !== undefined) this.set(oldIds[i]!, v);
    }
  }
}
