/** A fixed-capacity ring buffer: push overwrites the oldest item when full. */
export class Ring<T> {
  private readonly items: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = item;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Items oldest first, optionally only those passing `keep`. */
  toArray(keep?: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const it = this.items[(this.start + i) % this.capacity] as T;
      if (keep === undefined || keep(it)) out.push(it);
    }
    return out;
  }
}
