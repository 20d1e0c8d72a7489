/** An item the heap orders: its deadline, and the slot the heap keeps it in (-1 when not in the heap). */
export interface HeapItem {
  deadline: number;
  heapIndex: number;
}

/**
 * An indexed binary min-heap on `deadline`. Because every item knows its slot,
 * a changed deadline (keepAlive) or a removal (revoke) costs O(log n) and
 * leaves no stale entry behind, so the heap holds exactly the live items. The
 * earliest deadline is read in O(1): asking "did something expire?" on every
 * command costs nothing, whatever the number of items.
 */
export class DeadlineHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The item with the earliest deadline. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Re-positions an item whose deadline changed. */
  update(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    this.up(i);
    this.down(item.heapIndex);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const a = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.deadline <= a[i]!.deadline) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.deadline < a[m]!.deadline) m = l;
      if (r < a.length && a[r]!.deadline < a[m]!.deadline) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const x = a[i]!;
    const y = a[j]!;
    a[i] = y;
    a[j] = x;
    x.heapIndex = j;
    y.heapIndex = i;
  }
}
