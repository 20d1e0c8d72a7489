import assert from "node:assert/strict";
import { T, describe, halfClose, parseStreamEnd, request, streamMessage, streamOpen, windowUpdate, type Frame, type StreamEnd } from "./frames.js";
import { expectQuiet } from "./case.js";
import { ping, type RawConn, type Session } from "./raw-conn.js";
import { decodeOutput, emptyRequest, type StreamMethod } from "./stream-methods.js";

/** §15.11: what a chunk costs of the window. */
export function cost(f: Frame): number {
  return Math.max(1, f.body.length);
}

/** §15.5: a STREAM_END whose status and payload agree (a goms.v1.Status with the same code, or nothing on 0). */
export function checkEnd(f: Frame): StreamEnd {
  const e = parseStreamEnd(f);
  if (e.status === 0) assert.equal(e.payload.length, 0, "a STREAM_END with status 0 has no payload");
  return e;
}

export interface StreamRead {
  messages: Buffer[];
  end: StreamEnd;
  /** Times the node used up the window and waited for a WINDOW_UPDATE. */
  stalls: number;
}

/**
 * Reads the node's frames for stream `id` up to its STREAM_END, checking the
 * rules a receiver can see: no chunk costs more than what is left of the
 * window (§15.12), no empty chunk with MORE (§15.14), whole messages of the
 * method's output type. Each time the window is used up it is granted back in
 * one WINDOW_UPDATE (a stall); on the first stall the node must first stay
 * quiet, since it has no credit. A frame of any other stream fails the read.
 * `first`: a chunk already read (by holdOpen), the start of the first message.
 */
export async function readStream(conn: RawConn, id: number, m: StreamMethod, window: number, first?: Frame): Promise<StreamRead> {
  let remaining = window;
  let stalls = 0;
  const messages: Buffer[] = [];
  let parts: Buffer[] = [];
  if (first !== undefined) {
    if ((first.flags & 0x02) !== 0) parts.push(first.body);
    else messages.push(first.body);
  }
  for (;;) {
    const f = await conn.frame();
    assert.equal(f.callId, id, `expected a frame of stream ${id}, got ${describe(f)}`);
    if (f.type === T.StreamEnd) {
      assert.equal(parts.length, 0, "STREAM_END came in the middle of a message (its last chunk had MORE)");
      return { messages, end: checkEnd(f), stalls };
    }
    assert.equal(f.type, T.StreamMessage, `expected STREAM_MESSAGE or STREAM_END, got ${describe(f)}`);
    const more = (f.flags & 0x02) !== 0;
    assert.ok(!(more && f.body.length === 0), "an empty chunk with MORE (§15.14)");
    assert.ok(cost(f) <= remaining, `a ${f.body.length}-byte chunk sent past the window: ${remaining} bytes were left (§15.12)`);
    remaining -= cost(f);
    parts.push(f.body);
    if (!more) {
      const whole = Buffer.concat(parts);
      decodeOutput(m, whole);
      messages.push(whole);
      parts = [];
    }
    if (remaining === 0) {
      if (stalls++ === 0) await expectQuiet(conn, 300);
      conn.write(windowUpdate(id, window));
      remaining = window;
    }
  }
}

/**
 * Opens stream `id` of `m` and returns once the node is running it and it
 * stays open: a server stream gets its request (and HALF_CLOSE, unless
 * `close` is false) and must use up the session's 1-byte window (the node is
 * then waiting for credit); a bidi or client stream gets no message, and a
 * Ping (call `id + 1`) answered without a STREAM_END shows the node took the
 * STREAM_OPEN. Returns the next free id, and the server stream's first chunk.
 */
export async function holdOpen(s: Session, id: number, m: StreamMethod, close = true): Promise<{ next: number; first?: Frame }> {
  if (m.kind === "server_streaming") {
    s.conn.write(streamOpen(id, { method: m.path }), streamMessage(id, emptyRequest(m)), close ? halfClose(id) : Buffer.alloc(0));
    const f = await s.conn.frame();
    if (f.type === T.StreamEnd) assert.fail(`${m.path} ended (status ${f.body[0]}) before sending a byte; the stream cases need a server stream that answers an empty request with at least 2 bytes`);
    assert.deepEqual([f.type, f.callId, f.body.length], [T.StreamMessage, id, 1], `the node's first frame on a 1-byte window: ${describe(f)}`);
    return { next: id + 1, first: f };
  }
  s.conn.write(streamOpen(id, { method: m.path }), request(id + 1, ping()));
  const f = await s.conn.frame();
  assert.deepEqual([f.type, f.callId], [T.Response, id + 1], `expected the Ping's RESPONSE, got ${describe(f)} (the stream must stay open until HALF_CLOSE)`);
  return { next: id + 2 };
}
