// Cases for docs/protocol.md §4 (HELLO and the handshake).
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloSchema } from "../../src/gen/goms/v1/node_pb.js";
import { expectGoAway, expectProtocolError, expectSilentClose, type Case } from "./case.js";
import { HANDSHAKE_FRAME_LIMIT, MIN_MAX_FRAME_SIZE, T, frame, helloBody, preface, request, type HelloFields } from "./frames.js";
import { RawConn, ping } from "./raw-conn.js";

const pingReq = (id: number): Buffer => request(id, ping());

/** Sends preface + a HELLO with `fields` (plus the target's token) and reads the server preface. */
async function sendHello(ctx: { open(): Promise<RawConn>; target: { token?: string } }, fields: HelloFields, body?: Buffer): Promise<RawConn> {
  const c = await ctx.open();
  const token = ctx.target.token === undefined ? {} : { token: ctx.target.token };
  c.write(preface(), frame(T.Hello, 0, 0, body ?? helloBody({ ...token, ...fields })));
  await c.preface();
  return c;
}

export const helloCases: Case[] = [
  {
    rule: "§4.2",
    name: "PING before HELLO is a protocol error",
    async run(ctx) {
      const c = await ctx.open();
      c.write(preface(), frame(T.Ping, 0, 0, Buffer.alloc(8)));
      await c.preface();
      await expectProtocolError(c);
    },
  },
  {
    rule: "§4.2",
    name: "REQUEST before HELLO is a protocol error",
    async run(ctx) {
      const c = await ctx.open();
      c.write(preface(), pingReq(1));
      await c.preface();
      await expectProtocolError(c);
    },
  },
  {
    rule: "§4.3",
    name: "a HELLO body that is not a goms.v1.Hello is a protocol error",
    async run(ctx) {
      const c = await sendHello(ctx, {}, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      await expectProtocolError(c);
    },
  },
  {
    rule: "§4.3",
    name: "a HELLO without node is a protocol error",
    async run(ctx) {
      await expectProtocolError(await sendHello(ctx, { withNode: false }));
    },
  },
  {
    rule: "§4.3",
    name: "a HELLO with an empty node.name is a protocol error",
    async run(ctx) {
      await expectProtocolError(await sendHello(ctx, { name: "" }));
    },
  },
  {
    rule: "§4.3",
    name: "a HELLO with a 256-byte node.name is a protocol error",
    async run(ctx) {
      await expectProtocolError(await sendHello(ctx, { name: "n".repeat(256) }));
    },
  },
  {
    rule: "§4.3",
    name: "a HELLO with a 255-byte node.name and node.id 0 is accepted",
    async run(ctx) {
      const s = await ctx.handshake({ name: "é".repeat(127) + "n", id: 0 });
      assert.ok(s.hello.node);
    },
  },
  {
    rule: "§4.4",
    name: "max_frame_size 65535 is a protocol error",
    async run(ctx) {
      await expectProtocolError(await sendHello(ctx, { maxFrameSize: MIN_MAX_FRAME_SIZE - 1 }));
    },
  },
  {
    rule: "§4.4",
    name: "max_frame_size 65536 is accepted",
    async run(ctx) {
      const { conn } = await ctx.handshake({ maxFrameSize: MIN_MAX_FRAME_SIZE });
      conn.write(pingReq(1));
      assert.equal((await conn.response(1)).status, 0);
    },
  },
  {
    rule: "§4.7",
    name: "a HELLO with a wrong token gets GOAWAY 16 and no HELLO",
    needs: "token",
    async run(ctx) {
      const c = await sendHello(ctx, { token: `${ctx.target.token ?? ""}-wrong` });
      const g = await expectGoAway(c, 16);
      assert.equal(g.lastCallId, 0);
    },
  },
  {
    rule: "§4.7",
    name: "a HELLO without a token gets GOAWAY 16 when the node requires one",
    needs: "token",
    async run(ctx) {
      const c = await ctx.open();
      c.write(preface(), frame(T.Hello, 0, 0, helloBody()));
      await c.preface();
      await expectGoAway(c, 16);
    },
  },
  {
    rule: "§4.8",
    name: "a HELLO longer than 16 KiB is a protocol error from its length prefix",
    async run(ctx) {
      const c = await ctx.open();
      // Only the header: the node must refuse the length without waiting for (or buffering) the body.
      c.write(preface(), frame(T.Hello, 0, 0, Buffer.alloc(0), HANDSHAKE_FRAME_LIMIT + 1));
      await c.preface();
      await expectProtocolError(c);
    },
  },
  {
    rule: "§4.8",
    name: "a HELLO frame of exactly 16 KiB is accepted",
    async run(ctx) {
      const token = ctx.target.token ?? "";
      const make = (pad: number): Buffer =>
        Buffer.from(toBinary(HelloSchema, create(HelloSchema, { node: { id: 1, name: "conformance", type: "t".repeat(pad) }, token })));
      let pad = HANDSHAKE_FRAME_LIMIT - 6 - make(0).length - 2;
      while (6 + make(pad).length > HANDSHAKE_FRAME_LIMIT) pad--;
      const body = make(pad);
      assert.equal(6 + body.length, HANDSHAKE_FRAME_LIMIT, "test bug: HELLO frame size");
      const c = await ctx.open();
      c.write(preface(), frame(T.Hello, 0, 0, body));
      await c.preface();
      assert.equal((await c.frame()).type, T.Hello);
    },
  },
  {
    rule: "§4.9",
    name: "a second HELLO is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(frame(T.Hello, 0, 0, helloBody(ctx.target.token === undefined ? {} : { token: ctx.target.token })));
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§4.10",
    name: "the node's HELLO is the first frame it sends",
    async run(ctx) {
      // handshake() fails unless the first frame after the preface is a HELLO.
      const { hello } = await ctx.handshake();
      assert.ok(hello.node);
    },
  },
  {
    rule: "§4.11",
    name: "REQUESTs pipelined right after HELLO are answered after the node's HELLO",
    async run(ctx) {
      const { conn } = await ctx.handshake({}, [pingReq(1), pingReq(2)]);
      assert.equal((await conn.response(1)).status, 0);
      assert.equal((await conn.response(2)).status, 0);
    },
  },
  {
    rule: "§4.11",
    name: "REQUESTs pipelined after a refused HELLO are discarded unanswered",
    needs: "token",
    async run(ctx) {
      const c = await ctx.open();
      c.write(preface(), frame(T.Hello, 0, 0, helloBody({ token: "wrong" })), pingReq(1));
      await c.preface();
      await expectGoAway(c, 16);
    },
  },
  {
    rule: "§4.12",
    name: "a connection that sends only its preface is closed after the handshake timeout",
    kind: "slow",
    async run(ctx) {
      const c = await ctx.open();
      c.write(preface());
      await c.preface();
      // Default timeout 5 s; the bound is generous.
      await c.closedWithin(15_000);
    },
  },
  {
    rule: "§4.13",
    name: "past maxPendingHandshakes the oldest pending connection is closed and the new one is served",
    kind: "exclusive",
    async run(ctx) {
      const held: RawConn[] = [];
      for (let i = 0; i < ctx.maxPendingHandshakes; i++) held.push(await ctx.open());
      // Give the server time to accept every held socket, so the oldest is the first one.
      await new Promise((r) => setTimeout(r, 200));
      const c = await ctx.open();
      c.write(preface());
      const e = await c.next();
      assert.equal(e.kind, "preface", "the new connection gets the server's preface");
      await expectSilentClose(held[0]!);
      c.destroy();
      for (const h of held) h.destroy();
    },
  },
  {
    rule: "§4.14",
    name: "the node's HELLO has a 1..255-byte node.name and a valid max_frame_size",
    async run(ctx) {
      const { hello } = await ctx.handshake();
      const name = Buffer.byteLength(hello.node?.name ?? "", "utf8");
      assert.ok(name >= 1 && name <= 255, `node.name of ${name} bytes`);
      assert.ok(hello.maxFrameSize === 0 || hello.maxFrameSize >= MIN_MAX_FRAME_SIZE, `max_frame_size ${hello.maxFrameSize}`);
    },
  },
];
