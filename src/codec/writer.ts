/**
 * A growable output buffer shared by the frame encoder and the message codecs.
 *
 * Bytes between `start` and `pos` belong to the frame(s) being built. `take()`
 * hands that region to the socket and never rewrites it; later frames continue
 * after it in the same slab until the slab is full, when a new one is allocated
 * and only the unfinished region is copied over.
 */
export class Writer {
  buf: Buffer;
  pos = 0;
  start = 0;
  private readonly slabSize: number;

  constructor(slabSize = 64 * 1024) {
    this.slabSize = slabSize;
    this.buf = Buffer.allocUnsafe(slabSize);
  }

  /** Guarantees `n` writable bytes at `pos`. May replace `buf`: re-read it after calling. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const used = this.pos - this.start;
    const size = Math.max(this.slabSize, (used + n) * 2);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  /** Bytes written since the last take(). */
  get pending(): number {
    return this.pos - this.start;
  }

  /**
   * Returns the bytes written since the last take() and starts a new region,
   * on a new slab when less than `minRoom` bytes would be left. A caller that
   * flushes because room ran short passes the room it wants: otherwise the
   * old slab stays short and every later frame is flushed on its own.
   */
  take(minRoom = 512): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    if (this.buf.length - this.pos < minRoom) {
      this.buf = Buffer.allocUnsafe(this.slabSize);
      this.start = this.pos = 0;
    }
    return out;
  }

  /** Drops everything since the last take() (used when encoding a frame fails half-way). */
  rewind(to: number = this.start): void {
    this.pos = to;
  }
}
