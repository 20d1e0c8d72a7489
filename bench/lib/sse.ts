/**
 * The stream suite's Gateway SSE part: what its two servers (goms gateway,
 * bare node:http writer) and their one client share. The route, the request
 * body, the event framing, and an HTTP client that opens one server stream
 * per connection and counts its events.
 */
import http from "node:http";
import { BenchmarkMessageSchema } from "../gen/goms/bench/v1/bench_pb.js";
import { makeBenchJson } from "./payload.js";
import type { StreamSink } from "./stream-load.js";

/** The gateway's route of BenchService.Stream; the bare server answers the same path. */
export const SSE_STREAM_PATH = "/api/goms.bench.v1.BenchService/Stream";

/** The proto3 JSON of StreamRequest{count}: int64 is a string in proto3 JSON. */
export function sseRequestBody(count: number): string {
  return JSON.stringify({ count: String(count) });
}

/** The response headers the gateway's SseStream writes, so both servers send the same bytes. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  connection: "keep-alive",
};
/** The first bytes of every gateway stream (the browser's reconnect delay). */
export const SSE_PREAMBLE = "retry: 2000\n\n";
/** The last event of a stream that ended cleanly. */
export const SSE_END_OK = 'event: end\ndata: {"code":"ok","message":""}\n\n';

/**
 * The streamed BenchmarkMessage as the plain object a hand-written endpoint
 * would hold: the values of makeStreamedMessage(), keys in field-number
 * order and int64 field22 as a string (as proto3 JSON writers emit them),
 * so that JSON.stringify of it is byte for byte what the gateway sends.
 */
export function makeStreamedJson(): Record<string, string | number | boolean> {
  const values: Record<string, string | number | boolean> = { ...makeBenchJson(), field1: "OK", field2: 100, field22: "100000" };
  const o: Record<string, string | number | boolean> = {};
  for (const f of [...BenchmarkMessageSchema.fields].sort((a, b) => a.number - b.number)) {
    const v = values[f.jsonName];
    if (v !== undefined) o[f.jsonName] = v;
  }
  return o;
}

const NL = 0x0a;

/**
 * Counts the data-carrying events of an SSE byte stream, chunk by chunk: an
 * event ends at a blank line ("\n\n", which may be split across two chunks).
 * Comments (": ping") and the `retry:` field carry no data and are not
 * counted, so only message (and end) events are.
 */
export class SseEventCounter {
  /** The previous chunk ended with a "\n" that did not close an event. */
  private pendingNl = false;
  /** First byte of the event being read; -1 before its first byte arrived. */
  private first = -1;

  /** Returns the number of data events that `chunk` completed. */
  push(chunk: Buffer): number {
    let n = 0;
    let pos = 0;
    const len = chunk.length;
    if (len === 0) return 0;
    if (this.pendingNl && chunk[0] === NL) {
      n += this.close();
      pos = 1;
    }
    while (pos < len) {
      if (this.first === -1) this.first = chunk[pos] ?? -1;
      const at = chunk.indexOf("\n\n", pos);
      if (at === -1) break;
      n += this.close();
      pos = at + 2;
    }
    this.pendingNl = pos < len && chunk[len - 1] === NL;
    return n;
  }

  private close(): number {
    // "event: ..." or "data: ..." first: an event with data. ":" (comment) or "retry:": none.
    const f = this.first;
    this.first = -1;
    return f === 0x65 || f === 0x64 ? 1 : 0;
  }
}

export interface SseTarget {
  host: string;
  port: number;
  /** Reuses connections between the readiness check and the measured streams. */
  agent: http.Agent;
}

/** POSTs a Stream request; `onResponse` gets the 200 response, `onError` anything else. */
function postStream(t: SseTarget, count: number, onResponse: (res: http.IncomingMessage) => void, onError: (e: Error) => void): http.ClientRequest {
  const body = sseRequestBody(count);
  const req = http.request(
    {
      host: t.host,
      port: t.port,
      agent: t.agent,
      method: "POST",
      path: SSE_STREAM_PATH,
      headers: { accept: "text/event-stream", "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    },
    (res) => {
      if (res.statusCode === 200) {
        onResponse(res);
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c.slice(0, 500)));
      res.on("end", () => onError(new Error(`HTTP ${res.statusCode ?? 0}: ${text.slice(0, 300)}`)));
      res.on("error", onError);
    },
  );
  req.on("error", onError);
  req.end(body);
  return req;
}

/**
 * Opens one endless stream (count 0) feeding `sink`: one sink.message() per
 * data event. Returns its cancel, which closes the connection (how an HTTP
 * client cancels a server stream).
 */
export function openSseStream(t: SseTarget, sink: StreamSink): () => void {
  const counter = new SseEventCounter();
  let done = false;
  const end = (e: unknown): void => {
    if (done) return;
    done = true;
    sink.end(e);
  };
  const req = postStream(
    t,
    0,
    (res) => {
      res.on("data", (chunk: Buffer) => {
        for (let n = counter.push(chunk); n > 0; n--) sink.message();
      });
      res.on("end", () => end(undefined));
      res.on("error", end);
      res.on("close", () => end(res.complete ? undefined : new Error("the stream's connection closed")));
    },
    end,
  );
  return () => req.destroy();
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Reads a whole short stream (count > 0) and returns its text, as sent. */
export function readSseText(t: SseTarget, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    postStream(
      t,
      count,
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve(text));
        res.on("error", reject);
      },
      reject,
    );
  });
}

/** The events of an SSE text, with their `event:` name (default "message") and `data:` lines joined. */
export function parseSseEvents(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) out.push({ event, data: data.join("\n") });
  }
  return out;
}
