import { Code, codeFromString, isCode } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";
import { statusEnd, type CallEnd } from "./trailer.js";

/** What goms/web needs of a WebSocket: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (ev: { data?: unknown; code?: number; reason?: string }) => void): void;
}

/** A WebSocket constructor: the browser's, or `ws`'s in Node. `protocols` are the subprotocols offered. */
export type WebSocketFactory = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Where a stream's socket goes: the constructor, the URL and the subprotocols to offer (they may wait on a token). */
export interface SocketTarget {
  Ctor: WebSocketFactory;
  url: string;
  protocols: () => Promise<string[]>;
}

/** Requests are sent while less than this is queued in the socket; then the sender waits for it to drain. */
const SEND_HIGH_WATER = 256 * 1024;
/** After this many bytes sent without a pause, the sender gives the event loop a turn. */
const SEND_TURN_BYTES = 64 * 1024;
const OPEN = 1;

/** The close reason's JSON status ({} when it is not JSON). */
function parseReason(reason: string): { code?: unknown; message?: unknown; ret?: unknown; reason?: unknown } {
  try {
    const v = JSON.parse(reason) as unknown;
    return typeof v === "object" && v !== null ? v : {};
  } catch {
    return {};
  }
}

/**
 * The stream's outcome from a close: 1000 is the end, with the ret it carried
 * (the gateway sends no trailing metadata in a close: it would rarely fit);
 * 4000 + code a goms error (reason: the JSON status).
 */
export function closeOutcome(code: number, reason: string): { err: GomsError; end?: undefined } | { err?: undefined; end: CallEnd } {
  const s = parseReason(reason);
  if (code === 1000) return { end: statusEnd(s) };
  const named = typeof s.code === "string" ? codeFromString(s.code) : undefined;
  const c = named ?? (isCode(code - 4000) ? code - 4000 : code === 1009 ? Code.ResourceExhausted : Code.Unavailable);
  const opts: { ret?: number; reason?: string } = {};
  if (typeof s.ret === "number") opts.ret = s.ret;
  if (typeof s.reason === "string") opts.reason = s.reason;
  const msg = typeof s.message === "string" ? s.message : code === 1009 ? "a message was over the gateway's size limit" : `the WebSocket closed (${code}${reason === "" ? "" : `: ${reason}`})`;
  return { err: new GomsError(msg, c, opts) };
}

/**
 * A client or bidi stream over a WebSocket to the gateway: `requests` are sent
 * as proto3 JSON text messages (waiting while the socket holds more than 256
 * KiB), then an empty message (the half-close); every message received is a
 * response. The close ends the iteration: cleanly on 1000 (the generator
 * returns the ret it carried), else with the GomsError it carries. Leaving early, `signal` or `timeoutMs` close the
 * socket, which cancels the call at the gateway.
 */
export async function* webSocketStream(
  target: SocketTarget,
  requests: AsyncIterable<unknown>,
  encode: (m: unknown) => string,
  decode: (json: unknown) => unknown,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AsyncGenerator<unknown, CallEnd> {
  const ws = new target.Ctor(target.url, await target.protocols());
  const inbox: unknown[] = [];
  let end: ReturnType<typeof closeOutcome> | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: GomsError): void => {
    end ??= { err };
    notify();
    if (ws.readyState <= OPEN) ws.close(1000);
  };
  ws.addEventListener("message", (ev) => {
    inbox.push(ev.data);
    notify();
  });
  ws.addEventListener("close", (ev) => {
    end ??= closeOutcome(ev.code ?? 1006, ev.reason ?? "");
    notify();
  });
  ws.addEventListener("error", () => undefined); // a close follows
  const onAbort = (): void => fail(GomsError.is(signal?.reason) ? signal.reason : new GomsError("the call was canceled", Code.Canceled));
  if (signal?.aborted === true) onAbort();
  signal?.addEventListener("abort", onAbort);
  const timer = timeoutMs !== undefined && timeoutMs > 0 ? setTimeout(() => fail(new GomsError(`deadline of ${timeoutMs} ms exceeded`, Code.DeadlineExceeded)), timeoutMs) : undefined;
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  const pump = async (): Promise<void> => {
    if (!(await opened)) return;
    // A request iterable that never waits on anything (an endless generator) would run
    // on microtasks alone while the socket keeps up, and starve the event loop:
    // no message, close or timer would be seen. A turn every 64 KiB sent avoids it.
    let sinceTurn = 0;
    try {
      for await (const r of requests) {
        if (end !== undefined) return;
        const text = encode(r);
        ws.send(text);
        sinceTurn += text.length + 1;
        while (ws.bufferedAmount > SEND_HIGH_WATER && end === undefined) await new Promise((res) => setTimeout(res, 5));
        if (sinceTurn >= SEND_TURN_BYTES) {
          sinceTurn = 0;
          await new Promise((res) => setTimeout(res, 0));
        }
      }
      if (end === undefined) ws.send("");
    } catch (e) {
      fail(GomsError.from(e, Code.Canceled));
    }
  };
  void pump();
  try {
    for (;;) {
      if (inbox.length > 0) {
        const data = inbox.shift();
        let json: unknown;
        try {
          json = JSON.parse(typeof data === "string" ? data : String(data));
        } catch (e) {
          throw new GomsError("a WebSocket message that is not JSON", Code.Internal, { cause: e });
        }
        yield decode(json);
        continue;
      }
      if (end !== undefined) {
        if (end.err !== undefined) throw end.err;
        return end.end;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (ws.readyState <= OPEN) ws.close(1000);
  }
}
