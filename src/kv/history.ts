import type { WatchEvent } from "./types.js";

/**
 * A bounded ring of the most recent events. Events have consecutive revisions,
 * so the event for revision r sits at a fixed offset from the oldest one.
 */
export class History {
  private readonly ring: (WatchEvent | undefined)[];
  private head = 0; // index of the oldest event
  private size = 0;
  /** Highest revision no longer available (evicted, or before the history began). */
  private compactedThrough: number;

  constructor(
    readonly capacity: number,
    startRevision: number,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError("history capacity must be >= 1");
    this.ring = new Array<WatchEvent | undefined>(capacity);
    this.compactedThrough = startRevision;
  }

  /** Oldest revision a watch may start from (everything below was dropped). */
  get oldestAvailable(): number {
    return this.compactedThrough + 1;
  }

  /** Appends the next event; its revision must follow the previous one. */
  push(ev: WatchEvent): void {
    const expected = this.compactedThrough + this.size + 1;
    if (ev.revision !== expected) throw new Error(`history: revision ${String(ev.revision)} out of order, expected ${String(expected)}`);
    if (this.size === this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      this.compactedThrough++;
    }
    this.ring[(this.head + this.size) % this.capacity] = ev;
    this.size++;
  }

  /** The event with this revision, or undefined if dropped or not yet written. */
  at(revision: number): WatchEvent | undefined {
    const off = revision - this.compactedThrough - 1;
    if (off < 0 || off >= this.size) return undefined;
    return this.ring[(this.head + off) % this.capacity];
  }
}
