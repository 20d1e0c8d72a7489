// Heartbeats (docs/protocol.md §9): a PING goes out heartbeat_ms after the last
// byte RECEIVED (not on a fixed tick counted from the handshake), and the idle
// close is a GOAWAY 14 "idle timeout" after max(own timeout, 3 x the peer's
// announced heartbeat). The bounds below are wide (hundreds of ms around a
// one-second heartbeat): they separate "after the last received byte" from the
// old "second tick after the handshake", not scheduler jitter.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/errors/index.js";
import { FLAG_ACK, FrameType } from "../../src/internal/wire/frame.js";
import { frame, helloFrame, preface, RawPeer, startTarget, type Target } from "../rpc/bad-input-kit.js";

const HEARTBEAT = 1000;
let t: Target;

before(async () => {
  t = await startTarget({ limits: { connection: { heartbeatMs: HEARTBEAT, heartbeatTimeoutMs: 2500, handshakeTimeoutMs: 2000 } } });
});

after(async () => {
  RawPeer.destroyAll();
  await t.close();
});

const isPing = (f: { type: number; flags: number }): boolean => f.type === FrameType.Ping && (f.flags & FLAG_ACK) === 0;

describe("§9 heartbeat timing", () => {
  it("the first PING comes heartbeat_ms after the last byte received, not on a tick from the handshake", async () => {
    const p = await RawPeer.handshake(t.port);
    // Keep talking for a while (an ACK-flagged PING: the server only notes that bytes arrived).
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 400));
      p.send(frame(FrameType.Ping, FLAG_ACK, 0, Buffer.alloc(8)));
    }
    const lastSent = Date.now();
    const ping = await p.waitFrame(isPing, 5000);
    const after = Date.now() - lastSent;
    assert.equal(ping.body.length, 8);
    assert.ok(after >= HEARTBEAT - 50, `PING ${after}ms after the last received byte: too early`);
    assert.ok(after < HEARTBEAT * 1.6, `PING ${after}ms after the last received byte: should be ~${HEARTBEAT}ms`);
  });

  it("a peer that answers every PING is never closed", async () => {
    const p = await RawPeer.handshake(t.port);
    await p.waitFrame(isPing, 5000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(!p.closed);
    assert.ok(!p.frames.some((f) => f.type === FrameType.GoAway));
  });
});

describe("§9 idle close", () => {
  it("a silent peer gets GOAWAY 14 \"idle timeout\" (last_call_id 0), then close", async () => {
    const p = await RawPeer.handshake(t.port);
    p.answerPings = false;
    const g = await p.waitGoAway(6000);
    assert.equal(g.code, Code.Unavailable);
    assert.equal(g.message, "idle timeout");
    assert.equal(g.lastCallId, 0);
    await p.waitClosed();
  });

  it("the idle timeout is max(own, 3 x the peer's announced heartbeat_ms)", async () => {
    // Announces a 1.5 s heartbeat: 3 x 1.5 s = 4.5 s beats the server's own 2.5 s.
    const p = await RawPeer.connect(t.port);
    p.answerPings = false;
    p.send(Buffer.concat([preface(), helloFrame("slow", [], 1500)]));
    await p.waitFrame((f) => f.type === FrameType.Hello);
    const start = Date.now();
    const g = await p.waitGoAway(9000);
    const took = Date.now() - start;
    assert.equal(g.message, "idle timeout");
    assert.ok(took >= 4400, `closed after ${took}ms: the peer's heartbeat was not taken into account`);
  });
});
