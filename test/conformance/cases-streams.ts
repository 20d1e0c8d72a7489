// Cases for docs/protocol.md §15 (streams) that run a stream: the node's stream
// methods are found through NodeService/Descriptors; a node with none has
// these cases reported skipped, with the reason.
import assert from "node:assert/strict";
import { expectQuiet, type Case, type CaseContext } from "./case.js";
import { DEFAULT_STREAM_WINDOW, T, cancel, decodeStatus, describe, halfClose, request, streamMessage, streamOpen, windowUpdate, type Frame } from "./frames.js";
import { ping, type RawConn } from "./raw-conn.js";
import { checkEnd, holdOpen, readStream } from "./stream-io.js";
import { emptyRequest, streamMethod, type StreamMethod } from "./stream-methods.js";
import { streamErrorCases } from "./cases-stream-errors.js";

/** The most streams the limit case opens; a node announcing more is not checked (it would take too long). */
const MAX_CHECKED_STREAMS = 1000;

/** Reads frames, skipping STREAM_MESSAGEs of other streams, until `match`; fails on anything else. */
async function until(conn: RawConn, match: (f: Frame) => boolean, what: string): Promise<Frame> {
  for (;;) {
    const f = await conn.frame();
    if (match(f)) return f;
    if (f.type !== T.StreamMessage) assert.fail(`expected ${what}, got ${describe(f)}`);
  }
}

/** Opens a stream of `kind`, sends `messages` empty requests and HALF_CLOSE; it must end with status 0, and nothing follow. */
async function runsToEnd(ctx: CaseContext, kind: StreamMethod["kind"], messages: number): Promise<void> {
  const m = await streamMethod(ctx, kind);
  const { conn } = await ctx.handshake();
  const req = emptyRequest(m);
  conn.write(streamOpen(1, { method: m.path }), ...Array.from({ length: messages }, () => streamMessage(1, req)), halfClose(1));
  const r = await readStream(conn, 1, m, DEFAULT_STREAM_WINDOW);
  assert.equal(r.end.status, 0, `STREAM_END status (message: ${r.end.status ? decodeStatus(r.end.payload).message : "-"})`);
  // Nothing more on the stream: the next frame answers this Ping.
  assert.equal((await conn.call(2, ping())).status, 0);
}

export const streamCases: Case[] = [
  {
    rule: "§15.5",
    name: "a server stream: STREAM_OPEN, its request, HALF_CLOSE; its messages, then one STREAM_END status 0",
    run: (ctx) => runsToEnd(ctx, "server_streaming", 1),
  },
  {
    rule: "§15.4",
    name: "a bidi stream: three messages, HALF_CLOSE, then the node's messages and one STREAM_END status 0",
    run: (ctx) => runsToEnd(ctx, "bidi_streaming", 3),
  },
  {
    rule: "§15.12",
    name: "a 1-byte window: the node never sends past it, and goes on after each WINDOW_UPDATE",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming");
      const { conn } = await ctx.handshake({ streamWindow: 1 });
      conn.write(streamOpen(1, { method: m.path }), streamMessage(1, emptyRequest(m)), halfClose(1));
      const r = await readStream(conn, 1, m, 1);
      assert.equal(r.end.status, 0, `STREAM_END status (message: ${r.end.status ? decodeStatus(r.end.payload).message : "-"})`);
      assert.ok(r.stalls >= 2, `${m.path} sent ${r.stalls} byte(s) to an empty request: the window was not exercised (it needs at least 2 bytes)`);
    },
  },
  {
    rule: "§15.13",
    name: "window granted back in one large WINDOW_UPDATE: the stream runs to its end",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming");
      const s = await ctx.handshake({ streamWindow: 1 });
      const { first } = await holdOpen(s, 1, m);
      // The node used its byte and waits; one grant of 1 MiB lets it finish without another.
      s.conn.write(windowUpdate(1, 1 << 20));
      const r = await readStream(s.conn, 1, m, 1 << 20, first);
      assert.equal(r.stalls, 0, "the node used no more than the granted window");
      assert.equal(r.end.status, 0);
    },
  },
  {
    rule: "§15.7",
    name: "timeout_ms covers the whole stream: a stream waiting for window ends with STREAM_END status 4",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming");
      const { conn } = await ctx.handshake({ streamWindow: 1 });
      conn.write(streamOpen(1, { method: m.path, timeoutMs: 300 }), streamMessage(1, emptyRequest(m)), halfClose(1));
      const f = await until(conn, (x) => x.type === T.StreamEnd && x.callId === 1, "STREAM_END of stream 1");
      const e = checkEnd(f);
      assert.equal(e.status, 4, "STREAM_END status");
      assert.equal(decodeStatus(e.payload).code, 4);
    },
  },
  {
    rule: "§15.6",
    name: "CANCEL ends a stream: the node sends nothing more on it, no STREAM_END",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming", "bidi_streaming");
      const s = await ctx.handshake({ streamWindow: 1 });
      const { next } = await holdOpen(s, 1, m);
      s.conn.write(cancel(1), request(next, ping()));
      const f = await s.conn.frame();
      assert.deepEqual([f.type, f.callId], [T.Response, next], `after CANCEL, expected the Ping's RESPONSE, got ${describe(f)}`);
      await expectQuiet(s.conn, 500);
    },
  },
  {
    rule: "§15.3",
    name: "past max_concurrent_streams a STREAM_OPEN is answered STREAM_END 8; a CANCEL frees a slot at once",
    async run(ctx) {
      const m = await streamMethod(ctx, "bidi_streaming", "client_streaming", "server_streaming");
      const s = await ctx.handshake({ streamWindow: 1 });
      const limit = s.hello.maxConcurrentStreams || 100;
      if (limit > MAX_CHECKED_STREAMS) assert.fail(`the node announces max_concurrent_streams ${limit}; the suite checks up to ${MAX_CHECKED_STREAMS}`);
      let id = 1;
      const ids: number[] = [];
      for (let i = 0; i < limit; i++) {
        ids.push(id);
        id = (await holdOpen(s, id, m)).next;
      }
      const over = id++;
      s.conn.write(streamOpen(over, { method: m.path }));
      const e = checkEnd(await until(s.conn, (f) => f.type === T.StreamEnd, `STREAM_END of stream ${over}`));
      assert.deepEqual([e.id, e.status], [over, 8], "the stream over the limit is refused with status 8");
      assert.equal(decodeStatus(e.payload).code, 8);
      // The refused stream is over: its crossing frames are ignored (§15.9), and the connection serves on.
      s.conn.write(streamMessage(over, emptyRequest(m)), halfClose(over));
      s.conn.write(cancel(ids[0]!));
      await holdOpen(s, id, m);
    },
  },
  ...streamErrorCases,
];
