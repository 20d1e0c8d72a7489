import type { ServerResponse } from "node:http";

/** Limits of one Server-Sent-Events stream (docs/admin.md "Limits"). */
export interface SseLimits {
  /**
   * Bytes the server may hold for a client that does not read fast enough
   * (what node:http has queued beyond the socket). Past it the client is
   * dropped: it has fallen too far behind to catch up. Default 1 MiB.
   */
  maxQueuedBytes?: number;
  /**
   * A comment line is sent this often so proxies keep the stream open; a
   * client that has not taken any bytes since the previous heartbeat is
   * dropped. Default 15000.
   */
  heartbeatMs?: number;
}

export const DEFAULT_SSE_LIMITS: Required<SseLimits> = { maxQueuedBytes: 1 << 20, heartbeatMs: 15_000 };

/**
 * Events written in one tick are sent as one chunk, at the end of the tick or
 * once they reach this many UTF-16 units (at most 3 bytes each in UTF-8). A
 * `res.write()` per event costs node:http a chunk header, the body and a CRLF
 * each, and a writev of four buffers per event: 11-15% of the CPU of a
 * gateway relaying a busy server stream (its profile, 2026-12-02).
 */
const BATCH_UNITS = 16 * 1024;

/**
 * How events are written. "sse": text/event-stream (`event:` and `data:`
 * lines, comment heartbeats). "ndjson": application/x-ndjson, one JSON object
 * `{"<event>":<data>}` per line, an empty line as heartbeat (NDJSON readers
 * skip blank lines). Both share the one bound on what is held for a client.
 */
export type StreamFormat = "sse" | "ndjson";

/** Why a stream ended: the server ended it, the client went away, or it was dropped for falling behind. */
export type SseEnd = "ended" | "closed" | "too-slow";

/**
 * One SSE response: the only place goms writes event streams, so that every
 * stream has the same bound. Writes never wait: a producer that can pause
 * (a registry watch) awaits `writable()` between events, one that cannot (a
 * broadcast) just sends, and the stream drops the client once the bytes it
 * holds for it pass `maxQueuedBytes`, or when the client took nothing
 * between two heartbeats while bytes were waiting.
 */
export class SseStream {
  private readonly limits: Required<SseLimits>;
  private readonly heartbeat: NodeJS.Timeout;
  private endedAs: SseEnd | undefined;
  private readonly onEnd: ((why: SseEnd) => void)[] = [];
  /** The producer waiting in writable(), if any. */
  private waiter: ((ok: boolean) => void) | undefined;
  /** Bytes were waiting at the last heartbeat and none has been taken since. */
  private stalled = false;
  /** Events written in this tick, not yet given to `res` (see BATCH_UNITS). */
  private pending = "";
  private flushQueued = false;
  private readonly flushTick = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(
    readonly res: ServerResponse,
    limits: SseLimits = {},
    headers: Readonly<Record<string, string>> = {},
    private readonly format: StreamFormat = "sse",
  ) {
    this.limits = { ...DEFAULT_SSE_LIMITS, ...limits };
    res.writeHead(200, {
      ...headers,
      "content-type": format === "sse" ? "text/event-stream; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "keep-alive",
    });
    res.on("close", () => this.finish("closed"));
    res.on("drain", () => {
      this.stalled = false;
      this.wake(true);
    });
    this.heartbeat = setInterval(() => this.beat(), this.limits.heartbeatMs);
    this.heartbeat.unref();
    if (format === "sse") this.write("retry: 2000\n\n");
    // Sent at once so that the client sees the response (and fetch() resolves) before the first event.
    else res.flushHeaders();
  }

  /** True until the stream has ended, for whatever reason. */
  get open(): boolean {
    return this.endedAs === undefined;
  }

  /** Bytes held for the client right now. */
  get queuedBytes(): number {
    return this.res.writableLength + Buffer.byteLength(this.pending);
  }

  /** Calls `fn` once when the stream ends (at once if it has). */
  onClose(fn: (why: SseEnd) => void): void {
    if (this.endedAs !== undefined) fn(this.endedAs);
    else this.onEnd.push(fn);
  }

  /** Sends one event (data as JSON); false when the stream has ended (or was just dropped). */
  send(event: string, data: unknown): boolean {
    return this.sendJson(event, JSON.stringify(data));
  }

  /** send() with `json` already serialized (one line: compact JSON never holds a raw newline). */
  sendJson(event: string, json: string): boolean {
    return this.write(this.format === "sse" ? `event: ${event}\ndata: ${json}\n\n` : `{${JSON.stringify(event)}:${json}}\n`);
  }

  /**
   * Resolves true once the client has taken what was queued (at once when
   * nothing waits), false when the stream ends first. Producers that can
   * wait call it between events, so that they hold no more than one event
   * beyond what is batched for this tick (BATCH_UNITS).
   */
  writable(): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    if (!this.res.writableNeedDrain) return Promise.resolve(true);
    // One waiter at a time (a producer waits before its next event), so nothing piles up per wait.
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends the stream normally (after `event`, if given: `data`, or `json` already serialized). */
  end(event?: { name: string; data?: unknown; json?: string }): void {
    if (!this.open) return;
    if (event) this.sendJson(event.name, event.json ?? JSON.stringify(event.data));
    if (!this.flush()) return;
    this.finish("ended");
    this.res.end();
  }

  private write(text: string): boolean {
    if (!this.open) return false;
    this.pending += text;
    if (this.pending.length >= BATCH_UNITS) return this.flush();
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(this.flushTick);
    }
    return true;
  }

  /** Gives `res` what was written since the last flush; false when that dropped the client (or it was gone). */
  private flush(): boolean {
    if (!this.open) return false;
    const text = this.pending;
    if (text.length === 0) return true;
    this.pending = "";
    this.res.write(text);
    if (this.res.writableLength > this.limits.maxQueuedBytes) {
      this.drop();
      return false;
    }
    return true;
  }

  private beat(): void {
    if (this.res.writableNeedDrain) {
      // Bytes have waited for a whole heartbeat period without a drain: the client has stalled.
      if (this.stalled) {
        this.drop();
        return;
      }
      this.stalled = true;
    }
    this.write(this.format === "sse" ? ": ping\n\n" : "\n");
  }

  /** Cuts the connection: ending it politely would queue still more bytes behind the ones the client is not reading. */
  private drop(): void {
    this.finish("too-slow");
    this.res.destroy();
  }

  private finish(why: SseEnd): void {
    if (this.endedAs !== undefined) return;
    this.endedAs = why;
    this.pending = "";
    clearInterval(this.heartbeat);
    this.wake(false);
    for (const fn of this.onEnd.splice(0)) fn(why);
  }

  private wake(ok: boolean): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.(ok);
  }
}
