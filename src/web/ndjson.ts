import { Code } from "../errors/code.js";
import { GomsError } from "../errors/goms-error.js";

/** One line of a gateway stream (docs/gateway.md "Streams"): a response, or the final status. */
export interface StreamEvent {
  message?: unknown;
  end?: unknown;
}

/** Longest line accepted, in characters: a line this long without its end is not a gateway stream. */
const MAX_LINE = 64 * 1024 * 1024;

function parseLine(line: string): StreamEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new GomsError(`invalid NDJSON line from the gateway: ${e instanceof Error ? e.message : String(e)}`, Code.Internal, { cause: e });
  }
  if (typeof v !== "object" || v === null || !("message" in v || "end" in v)) throw new GomsError("a stream line that is neither a message nor an end", Code.Internal);
  return v as StreamEvent;
}

/**
 * The events of an NDJSON body, read as they are taken: nothing is read ahead
 * of the consumer beyond the current chunk, so a slow consumer leaves bytes in
 * the connection and the gateway (and the stream's producer) waits. Blank
 * lines are the gateway's heartbeats. Leaving early cancels the body.
 */
export async function* ndjsonEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const line of ndjsonLines(body)) yield parseLine(line);
}

/**
 * The non-blank lines of an NDJSON byte stream (trimmed), read as they are
 * taken, like ndjsonEvents. A line longer than `maxLine` characters is
 * resource_exhausted. Leaving early cancels the stream.
 */
export async function* ndjsonLines(body: ReadableStream<Uint8Array>, maxLine = MAX_LINE): AsyncGenerator<string> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += dec.decode(r.value, { stream: true });
      let start = 0;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n", start)) {
        const line = buf.slice(start, nl).trim();
        start = nl + 1;
        if (line !== "") yield line;
      }
      buf = buf.slice(start);
      if (buf.length > maxLine) throw new GomsError(`an NDJSON line longer than ${maxLine} characters`, Code.ResourceExhausted);
    }
    const rest = (buf + dec.decode()).trim();
    if (rest !== "") yield rest;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
