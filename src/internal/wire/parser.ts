import { FRAME_MIN_LENGTH } from "./frame.js";

/** Receives each complete frame: the bytes of the whole frame live in buf[start, end). */
export interface FrameSink {
  /** `bodyStart` is the offset of the first body byte (after the 10-byte header). */
  onFrame(type: number, flags: number, callId: number, buf: Buffer, bodyStart: number, end: number): void;
  /** A frame header announced a length outside [6, maxFrameSize]. Nothing was allocated for it. */
  onFrameError(message: string): void;
}

/**
 * Streaming frame parser. Frames that lie inside one chunk are handed out as
 * views of that chunk (no copy); frames split over chunks are assembled once
 * their full length has arrived. A length above maxFrameSize is refused from
 * the 4-byte prefix alone, before any allocation.
 */
export class FrameParser {
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Total bytes of the frame being assembled (including length prefix), 0 when unknown. */
  private need = 0;
  private failed = false;
  private paused = false;
  private readonly sink: FrameSink;
  maxFrameSize: number;

  constructor(sink: FrameSink, maxFrameSize: number) {
    this.sink = sink;
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered for an incomplete frame. */
  get buffered(): number {
    return this.partsLen;
  }

  /**
   * Stops handing out frames once the current one returns (call it from
   * onFrame or between pushes). Bytes pushed meanwhile are only buffered.
   */
  pause(): void {
    this.paused = true;
  }

  /** Hands out the frames held back since pause(), then carries on as usual. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.failed || this.partsLen === 0) return;
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
    this.parts = [];
    this.partsLen = 0;
    this.need = 0;
    this.scan(joined);
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    if (this.paused) {
      this.parts.push(chunk);
      this.partsLen += chunk.length;
      return;
    }
    if (this.partsLen > 0) {
      this.parts.push(chunk);
      this.partsLen += chunk.length;
      if (this.need === 0) {
        if (this.partsLen < 4) return;
        const head = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
        const len = head.readUInt32BE(0);
        if (!this.checkLength(len)) return;
        this.need = len + 4;
      }
      if (this.partsLen < this.need) return;
      const joined = Buffer.concat(this.parts, this.partsLen);
      this.parts = [];
      this.partsLen = 0;
      this.need = 0;
      this.scan(joined);
      return;
    }
    this.scan(chunk);
  }

  private scan(buf: Buffer): void {
    const n = buf.length;
    let pos = 0;
    while (!this.failed && !this.paused) {
      const left = n - pos;
      if (left < 4) break;
      const len = buf.readUInt32BE(pos);
      if (!this.checkLength(len)) return;
      if (left < len + 4) {
        this.need = len + 4;
        break;
      }
      const end = pos + 4 + len;
      this.sink.onFrame(buf[pos + 4]!, buf[pos + 5]!, buf.readUInt32BE(pos + 6), buf, pos + 10, end);
      pos = end;
    }
    if (pos < n && !this.failed) {
      const rest = buf.subarray(pos);
      this.parts.push(rest);
      this.partsLen = rest.length;
    }
  }

  private checkLength(len: number): boolean {
    if (len < FRAME_MIN_LENGTH || len > this.maxFrameSize) {
      this.failed = true;
      this.parts = [];
      this.partsLen = 0;
      this.sink.onFrameError(
        len < FRAME_MIN_LENGTH
          ? `frame length ${len} is below the minimum of ${FRAME_MIN_LENGTH}`
          : `frame length ${len} exceeds the limit of ${this.maxFrameSize} bytes`,
      );
      return false;
    }
    return true;
  }
}
