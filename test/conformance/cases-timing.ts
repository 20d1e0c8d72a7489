// Cases for docs/protocol.md §9.6 (heartbeat) and §9.7 (idle close). They wait for the
// node's timers at their defaults (5 s / 15 s), so they are "slow" and all start at once.
// Bounds are generous: they check which frame comes and roughly when (seconds, not ms).
import assert from "node:assert/strict";
import { assertPing, type Case } from "./case.js";
import { T, describe, frame, parseGoAway, type Frame } from "./frames.js";
import type { RawConn } from "./raw-conn.js";

/** The next frame that is not a PING ACK, with the time it arrived; throws on close/timeout. */
async function nextNonAck(conn: RawConn, ms: number): Promise<{ f: Frame; at: number }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const e = await conn.next(Math.max(1, deadline - Date.now()));
    if (e.kind !== "frame") throw new Error(`expected a frame within ${ms} ms, got ${e.kind}`);
    if (e.frame.type === T.Ping && (e.frame.flags & 1) === 1) continue;
    return { f: e.frame, at: Date.now() };
  }
}

/** Reads (and does not answer) PINGs until a GOAWAY arrives; returns it with its arrival time. */
async function untilGoAway(conn: RawConn, ms: number): Promise<{ f: Frame; at: number }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await nextNonAck(conn, Math.max(1, deadline - Date.now()));
    if (got.f.type === T.Ping) continue;
    assert.equal(got.f.type, T.GoAway, `expected PINGs then GOAWAY, got ${describe(got.f)}`);
    return got;
  }
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export const timingCases: Case[] = [
  {
    rule: "§9.6",
    name: "on an idle connection the node's first PING comes about heartbeat_ms (5 s) after the handshake",
    kind: "slow",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.autoPong = false;
      const t0 = Date.now();
      const { f, at } = await nextNonAck(conn, 14_000);
      assertPing(f, false);
      const after = at - t0;
      assert.ok(after >= 2500 && after <= 8000, `first PING after ${s(after)}, expected about 5 s`);
    },
  },
  {
    rule: "§9.6",
    name: "the heartbeat counts from the last byte received, not from a fixed tick",
    kind: "slow",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.autoPong = false;
      await new Promise((r) => setTimeout(r, 3000));
      conn.write(frame(T.Ping, 0, 0, Buffer.from("stay-up!")));
      const sent = Date.now();
      const { f, at } = await nextNonAck(conn, 14_000);
      assertPing(f, false);
      const after = at - sent;
      assert.ok(after >= 3500 && after <= 12_000, `first PING ${s(after)} after the client's last byte, expected about 5 s`);
    },
  },
  {
    rule: "§9.7",
    name: "a silent peer gets GOAWAY 14 'idle timeout' (last_call_id 0) after about 15 s, then the close",
    kind: "slow",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.autoPong = false;
      const t0 = Date.now();
      const { f, at } = await untilGoAway(conn, 25_000);
      const g = parseGoAway(f);
      assert.deepEqual([g.code, g.lastCallId, g.message], [14, 0, "idle timeout"]);
      const after = at - t0;
      assert.ok(after >= 12_000 && after <= 21_000, `GOAWAY after ${s(after)}, expected about 15 s`);
      await conn.closedWithin();
    },
  },
  {
    rule: "§9.7",
    name: "a peer announcing heartbeat_ms 8000 is given 3 x 8 s = 24 s before the idle close",
    kind: "slow",
    async run(ctx) {
      const { conn } = await ctx.handshake({ heartbeatMs: 8000 });
      conn.autoPong = false;
      const t0 = Date.now();
      const { f, at } = await untilGoAway(conn, 34_000);
      const after = at - t0;
      assert.ok(after >= 19_000, `GOAWAY after ${s(after)}: the node ignored the peer's heartbeat_ms (expected about 24 s)`);
      assert.equal(parseGoAway(f).code, 14);
    },
  },
];
