/**
 * 4-byte big-endian length-prefixed frames over node:net, with the write policy
 * from anchors.md: write straight through when idle; while calls are in flight,
 * coalesce and flush at the end of each read burst or every `maxFrames` frames.
 */
import type { Socket } from "node:net";

export class BatchedWriter {
  private pending: Buffer[] = [];
  private inBurst = false;
  private scheduled = false;
  private readonly flushCb = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    private readonly maxFrames = 8,
  ) {}

  /** `idle`: nothing else is in flight, so the frame can go straight out. */
  send(frame: Buffer, idle: boolean): void {
    if (idle && !this.inBurst && this.pending.length === 0) {
      this.socket.write(frame);
      return;
    }
    this.pending.push(frame);
    if (this.pending.length >= this.maxFrames) {
      this.flush();
    } else if (!this.inBurst && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushCb);
    }
  }

  beginBurst(): void {
    this.inBurst = true;
  }

  endBurst(): void {
    this.inBurst = false;
    this.flush();
  }

  flush(): void {
    this.scheduled = false;
    const p = this.pending;
    if (p.length === 0) return;
    this.pending = [];
    this.socket.write(p.length === 1 ? (p[0] as Buffer) : Buffer.concat(p));
  }
}

/** Incremental frame splitter. Calls `onFrame(frame)` with the whole frame (header included). */
export class FrameReader {
  private rest: Buffer | undefined;

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let off = 0;
    while (buf.length - off >= 4) {
      const end = off + 4 + buf.readUInt32BE(off);
      if (end > buf.length) break;
      this.onFrame(buf.subarray(off, end));
      off = end;
    }
    if (off < buf.length) {
      buf = buf.subarray(off);
      this.rest = buf;
    }
  }
}

export function frame(body: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(4 + body.length);
  f.writeUInt32BE(body.length, 0);
  f.set(body, 4);
  return f;
}

/** Growable ring buffer queue. */
export class Ring<T> {
  private buf: Array<T | undefined> = new Array<T | undefined>(1024);
  private head = 0;
  private size = 0;

  push(v: T): void {
    if (this.size === this.buf.length) {
      const next = new Array<T | undefined>(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size++) % this.buf.length] = v;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return v;
  }
}
