/** Slots per chunk: big enough that chunk changes are rare, small enough that an idle queue costs little. */
const CHUNK = 1024;

/** One fixed array, written once front to back, read once front to back. */
class Chunk<T> {
  readonly slots: (T | undefined)[] = new Array<T | undefined>(CHUNK);
  read = 0;
  write = 0;
  next: Chunk<T> | undefined = undefined;

  reset(): void {
    this.read = 0;
    this.write = 0;
    this.next = undefined;
  }
}

/**
 * A FIFO with O(1) push and shift: a linked list of fixed-size chunks. Unlike
 * an array with shift() (O(n)) or a head index into a growing array (memory
 * held until an occasional copy), a drained chunk is released (or kept as the
 * one spare) as soon as the reader leaves it, so memory follows the current
 * length. `undefined` is a valid item: test `length` before `shift()`.
 */
export class FixedQueue<T> {
  private head = new Chunk<T>();
  private tail = this.head;
  /** One drained chunk kept for reuse, so a queue hovering at a chunk boundary does not allocate. */
  private spare: Chunk<T> | undefined;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    let t = this.tail;
    if (t.write === CHUNK) {
      const c = this.spare ?? new Chunk<T>();
      this.spare = undefined;
      t.next = c;
      this.tail = c;
      t = c;
    }
    t.slots[t.write++] = item;
    this.size++;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const h = this.head;
    const item = h.slots[h.read];
    h.slots[h.read++] = undefined; // let the item be collected
    this.size--;
    if (this.size === 0) {
      // Empty: rewind the one remaining chunk instead of moving on.
      h.reset();
      this.tail = h;
    } else if (h.read === CHUNK) {
      this.head = h.next as Chunk<T>;
      h.reset();
      this.spare = h;
    }
    return item;
  }

  /** The oldest item without removing it; undefined when empty. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.head.slots[this.head.read];
  }

  clear(): void {
    this.head = new Chunk<T>();
    this.tail = this.head;
    this.spare = undefined;
    this.size = 0;
  }
}
