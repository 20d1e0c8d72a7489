import { eventBytes } from "./limits.js";
import type { WatchEvent } from "./types.js";

/**
 * A bounded ring of the most recent events. Events have consecutive revisions,
 * so the event for revision r sits at a fixed offset from the oldest one.
 *
 * The ring is bounded twice, and this is the one place both bounds are
 * enforced: at most `capacity` events, and at most `maxBytes` of keys, values
 * and previous values (eventBytes). Big values would otherwise pin memory long
 * after the keys changed: 40 puts of 15 MiB to one key kept 600 MiB alive
 * while the live data was one value. The newest event is always kept, even
 * when it alone exceeds the byte budget, so a watcher can still see it.
 */
export class History {
  private readonly ring: (WatchEvent | undefined)[];
  private readonly sizes: Float64Array;
  private head = 0; // index of the oldest event
  private size = 0;
  private held = 0;
  /** Highest revision no longer available (evicted, or before the history began). */
  private compactedThrough: number;

  constructor(
    readonly capacity: number,
    startRevision: number,
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError("history capacity must be >= 1");
    if (!(maxBytes >= 1)) throw new RangeError("history maxBytes must be >= 1");
    this.ring = new Array<WatchEvent | undefined>(capacity);
    this.sizes = new Float64Array(capacity);
    this.compactedThrough = startRevision;
  }

  /** Oldest revision a watch may start from (everything below was dropped). */
  get oldestAvailable(): number {
    return this.compactedThrough + 1;
  }

  /** Events retained. */
  get length(): number {
    return this.size;
  }

  /** Bytes retained (eventBytes of every retained event). */
  get bytes(): number {
    return this.held;
  }

  /** Appends the next event; its revision must follow the previous one. */
  push(ev: WatchEvent): void {
    const expected = this.compactedThrough + this.size + 1;
    if (ev.revision !== expected) throw new Error(`history: revision ${String(ev.revision)} out of order, expected ${String(expected)}`);
    const bytes = eventBytes(ev);
    while (this.size > 0 && (this.size === this.capacity || this.held + bytes > this.maxBytes)) this.dropOldest();
    const slot = (this.head + this.size) % this.capacity;
    this.ring[slot] = ev;
    this.sizes[slot] = bytes;
    this.held += bytes;
    this.size++;
  }

  /** The event with this revision, or undefined if dropped or not yet written. */
  at(revision: number): WatchEvent | undefined {
    const off = revision - this.compactedThrough - 1;
    if (off < 0 || off >= this.size) return undefined;
    return this.ring[(this.head + off) % this.capacity];
  }

  private dropOldest(): void {
    this.ring[this.head] = undefined;
    this.held -= this.sizes[this.head] ?? 0;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.compactedThrough++;
  }
}
