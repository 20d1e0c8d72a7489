// Cases for docs/protocol.md §15: stream frames that break the rules (a
// protocol error, §9.13), frames that crossed a stream's end (ignored), and
// stream-scoped refusals (one STREAM_END, the connection stays).
import assert from "node:assert/strict";
import { expectProtocolError, protocolErrorCase, type Case, type CaseContext } from "./case.js";
import { DEFAULT_STREAM_WINDOW, NODE_SERVICE, PING, T, decodeStatus, describe, frame, halfClose, requestBody, streamMessage, streamOpen, windowUpdate } from "./frames.js";
import { ping, type Session } from "./raw-conn.js";
import { checkEnd, holdOpen, readStream } from "./stream-io.js";
import { emptyRequest, paddedRequest, streamMethod, type StreamMethod } from "./stream-methods.js";

/** A case on one stream held open by `holdOpen` (a 1-byte window session): `bytes` must be a protocol error. */
function heldOpenError(rule: string, name: string, kinds: StreamMethod["kind"][], bytes: (id: number, m: StreamMethod) => Buffer, close = true): Case {
  return {
    rule,
    name,
    async run(ctx) {
      const m = await streamMethod(ctx, ...kinds);
      const s = await ctx.handshake({ streamWindow: 1 });
      await holdOpen(s, 1, m, close);
      s.conn.write(bytes(1, m));
      await expectProtocolError(s.conn);
    },
  };
}

/** A STREAM_END for `id` with `status`, then a Ping answered: the connection stays (§15.3). */
async function expectRefused(s: Session, id: number, status: number, nextId: number): Promise<void> {
  const f = await s.conn.frame();
  assert.deepEqual([f.type, f.callId], [T.StreamEnd, id], `expected STREAM_END of stream ${id}, got ${describe(f)}`);
  const e = checkEnd(f);
  assert.equal(e.status, status, `STREAM_END status (message: ${e.status ? decodeStatus(e.payload).message : "-"})`);
  assert.equal(decodeStatus(e.payload).code, status);
  assert.equal((await s.conn.call(nextId, ping())).status, 0, "the connection stays usable");
}

async function crossedEnd(ctx: CaseContext): Promise<void> {
  const s = await ctx.handshake();
  // The client sends its messages right behind the STREAM_OPEN, before the refusal can reach it.
  s.conn.write(streamOpen(1, { method: "no.such.v1.Service/Method" }), streamMessage(1, Buffer.from([8, 1])), halfClose(1), windowUpdate(1, 100));
  await expectRefused(s, 1, 5, 2);
}

export const streamErrorCases: Case[] = [
  protocolErrorCase("§15.9", "a STREAM_MESSAGE for a stream never opened is a protocol error", streamMessage(5, Buffer.from([8, 1]))),
  protocolErrorCase("§15.9", "a HALF_CLOSE for a stream never opened is a protocol error", halfClose(5)),
  protocolErrorCase("§15.9", "a WINDOW_UPDATE for a stream never opened is a protocol error", windowUpdate(5, 100)),
  protocolErrorCase("§15.9", "a stream frame for id 0 is a protocol error", windowUpdate(0, 100)),
  { rule: "§15.9", name: "frames that crossed a refused stream's STREAM_END are ignored", run: crossedEnd },
  {
    rule: "§15.9",
    name: "frames for a stream that ran to its STREAM_END are ignored",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming", "bidi_streaming");
      const { conn } = await ctx.handshake();
      conn.write(streamOpen(1, { method: m.path }), streamMessage(1, emptyRequest(m)), halfClose(1));
      await readStream(conn, 1, m, DEFAULT_STREAM_WINDOW);
      conn.write(windowUpdate(1, 100), streamMessage(1, emptyRequest(m)), halfClose(1));
      assert.equal((await conn.call(2, ping())).status, 0, "the connection stays usable");
    },
  },
  {
    rule: "§15.1",
    name: "a STREAM_OPEN whose id does not increase on the REQUESTs' is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      assert.equal((await conn.call(5, ping())).status, 0);
      conn.write(streamOpen(3, { method: "no.such.v1.Service/Method" }));
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§15.2",
    name: "a STREAM_OPEN carrying a payload is a protocol error",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming", "bidi_streaming", "client_streaming");
      const { conn } = await ctx.handshake();
      conn.write(frame(T.StreamOpen, 0, 1, requestBody({ method: m.path, payload: Buffer.from([8, 1]) })));
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§15.3",
    name: "a STREAM_OPEN to a unary method is answered STREAM_END 12, to an unknown service STREAM_END 5",
    async run(ctx) {
      const s = await ctx.handshake();
      s.conn.write(streamOpen(1, { method: PING }));
      await expectRefused(s, 1, 12, 2);
      s.conn.write(streamOpen(3, { method: `${NODE_SERVICE}x/Ping` }));
      await expectRefused(s, 3, 5, 4);
    },
  },
  {
    rule: "§15.3",
    name: "a REQUEST to a streaming method is answered RESPONSE status 12",
    async run(ctx) {
      const m = await streamMethod(ctx, "server_streaming", "bidi_streaming", "client_streaming");
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { method: m.path, payload: emptyRequest(m) });
      assert.equal(r.status, 12, `RESPONSE status (message: ${r.status ? decodeStatus(r.payload).message : "-"})`);
      assert.equal(decodeStatus(r.payload).code, 12);
    },
  },
  {
    rule: "§15.12",
    name: "sending past the node's window is a protocol error",
    async run(ctx) {
      // A server stream reads its first message only: what follows stays unconsumed and uses up the window.
      const m = await streamMethod(ctx, "server_streaming");
      const s = await ctx.handshake({ streamWindow: 1 });
      await holdOpen(s, 1, m, false);
      const window = s.hello.streamWindow || DEFAULT_STREAM_WINDOW;
      const chunk = paddedRequest(m, 60_000);
      const n = Math.ceil(window / chunk.length) + 1;
      s.conn.write(...Array.from({ length: n }, () => streamMessage(1, chunk)));
      await expectProtocolError(s.conn);
    },
  },
  heldOpenError("§15.13", "a WINDOW_UPDATE that takes the window past 2^31 − 1 is a protocol error", ["bidi_streaming", "server_streaming"], (id) =>
    Buffer.concat([windowUpdate(id, 0x7fffffff), windowUpdate(id, 0x7fffffff)]),
  ),
  heldOpenError("§15.13", "a WINDOW_UPDATE of 0 is a protocol error", ["bidi_streaming", "server_streaming"], (id) => windowUpdate(id, 0)),
  heldOpenError("§15.13", "a WINDOW_UPDATE body of 3 bytes is a protocol error", ["bidi_streaming", "server_streaming"], (id) => frame(T.WindowUpdate, 0, id, Buffer.from([0, 0, 1]))),
  heldOpenError("§15.8", "a STREAM_MESSAGE after HALF_CLOSE is a protocol error", ["server_streaming"], (id, m) => streamMessage(id, emptyRequest(m))),
  heldOpenError("§15.8", "a second HALF_CLOSE is a protocol error", ["server_streaming"], (id) => halfClose(id)),
  heldOpenError("§15.8", "a HALF_CLOSE with a body is a protocol error", ["bidi_streaming", "client_streaming"], (id) => halfClose(id, Buffer.from([0]))),
  heldOpenError("§15.14", "an empty STREAM_MESSAGE with MORE is a protocol error", ["bidi_streaming", "client_streaming"], (id) => streamMessage(id, Buffer.alloc(0), true)),
  {
    rule: "§15.8",
    name: "a bidi STREAM_MESSAGE right behind its HALF_CLOSE is a protocol error",
    async run(ctx) {
      const m = await streamMethod(ctx, "bidi_streaming");
      const s = await ctx.handshake({ streamWindow: 1 });
      await holdOpen(s, 1, m);
      s.conn.write(halfClose(1), streamMessage(1, emptyRequest(m)));
      await expectProtocolError(s.conn);
    },
  },
];

