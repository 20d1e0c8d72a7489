// Cases for docs/protocol.md §9 (CANCEL, PING, GOAWAY, errors), except the timers (cases-timing.ts).
import assert from "node:assert/strict";
import { assertPing, expectQuiet, protocolErrorCase, type Case } from "./case.js";
import { FLAG_ACK, T, describe, frame, goAway, request } from "./frames.js";
import { ping } from "./raw-conn.js";


export const controlCases: Case[] = [
  protocolErrorCase("§9.1", "a CANCEL with a non-empty body is a protocol error", frame(T.Cancel, 0, 1, Buffer.from([1]))),
  {
    rule: "§9.3",
    name: "a CANCEL for an unknown id is ignored",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(frame(T.Cancel, 0, 42));
      assert.equal((await conn.call(1, ping())).status, 0);
    },
  },
  {
    rule: "§9.3",
    name: "a CANCEL for an answered call is ignored",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      assert.equal((await conn.call(1, ping())).status, 0);
      conn.write(frame(T.Cancel, 0, 1));
      assert.equal((await conn.call(2, ping())).status, 0);
    },
  },
  {
    rule: "§9.3",
    name: "after a CANCEL the next REQUEST still needs a larger id",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(request(5, ping()), frame(T.Cancel, 0, 5));
      // Call 5 may or may not have been answered before the CANCEL arrived (Ping is quick).
      conn.write(request(5, ping()));
      for (;;) {
        const f = await conn.frame();
        if (f.type === T.Response && f.callId === 5) continue;
        assert.equal(f.type, T.GoAway, `expected GOAWAY, got ${describe(f)}`);
        assert.equal(f.body[4], 3, "GOAWAY code 3");
        break;
      }
      await conn.closedWithin();
    },
  },
  protocolErrorCase("§9.4", "a PING with a 7-byte body is a protocol error", frame(T.Ping, 0, 0, Buffer.alloc(7))),
  protocolErrorCase("§9.4", "a PING with a 9-byte body is a protocol error", frame(T.Ping, 0, 0, Buffer.alloc(9))),
  protocolErrorCase("§9.4", "a PING ACK with a wrong body length is a protocol error too", frame(T.Ping, FLAG_ACK, 0, Buffer.alloc(0))),
  {
    rule: "§9.5",
    name: "a PING is answered with a PING ACK carrying the same 8 bytes",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const body = Buffer.from([1, 2, 3, 4, 5, 6, 7, 0xff]);
      conn.write(frame(T.Ping, 0, 0, body));
      const f = await conn.frame();
      assertPing(f, true);
      assert.deepEqual(f.body, body);
    },
  },
  {
    rule: "§9.5",
    name: "a PING ACK the node did not ask for is ignored",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(frame(T.Ping, FLAG_ACK, 0, Buffer.from("unknown!")));
      assert.equal((await conn.call(1, ping())).status, 0, "the next frame is the answer to call 1");
    },
  },
  protocolErrorCase("§9.8", "a GOAWAY body shorter than 5 bytes is a protocol error", frame(T.GoAway, 0, 0, Buffer.from([0, 0, 0, 0]))),
  protocolErrorCase("§9.8", "an empty GOAWAY body is a protocol error", frame(T.GoAway, 0, 0)),
  {
    rule: "§9.9",
    name: "a client GOAWAY whose message is not UTF-8 is not an error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(request(1, ping()), goAway(1, 0, Buffer.from([0xff, 0xfe, 0x41])));
      const frames = await conn.closedWithin();
      const bad = frames.filter((f) => f.type === T.GoAway && f.body[4] !== 0);
      assert.deepEqual(bad.map(describe), [], "no error GOAWAY");
      assert.ok(frames.some((f) => f.type === T.Response && f.callId === 1), "call 1 answered");
    },
  },
  {
    rule: "§9.12",
    name: "after a client GOAWAY 0 the node answers the calls in flight, then closes",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(request(1, ping()), request(2, ping()), goAway(2, 0, "client done"));
      const frames = await conn.closedWithin();
      const answered = frames.filter((f) => f.type === T.Response).map((f) => f.callId);
      assert.deepEqual(answered, [1, 2]);
      const others = frames.filter((f) => f.type !== T.Response && !(f.type === T.GoAway && f.body[4] === 0));
      assert.deepEqual(others.map(describe), [], "only RESPONSEs (and possibly a GOAWAY 0) before the close");
    },
  },
  {
    rule: "§9.12",
    name: "a client GOAWAY 0 on an idle connection closes it",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(goAway(0, 0));
      await conn.closedWithin();
    },
  },
  {
    rule: "§9.14",
    name: "call-scoped errors leave the connection open",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      assert.equal((await conn.call(1, { method: "no.such.v1.Service/M" })).status, 5);
      await expectQuiet(conn, 300);
      assert.equal((await conn.call(2, ping())).status, 0);
    },
  },
];
