// Cases for docs/protocol.md §5 (REQUEST), §6 (RESPONSE) and §10 (status codes).
import assert from "node:assert/strict";
import { PingRequestSchema, PingResponseSchema } from "../../src/gen/goms/v1/node_pb.js";
import { expectProtocolError, protocolErrorCase, type Case } from "./case.js";
import { CODEC_JSON, CODEC_PROTO, FLAG_NO_REPLY, MIN_MAX_FRAME_SIZE, NODE_SERVICE, PING, T, decodeStatus, frame, request, type Response } from "./frames.js";
import { decode, encode, ping, type RawConn } from "./raw-conn.js";


/** An error RESPONSE: status as expected, payload a goms.v1.Status with the same code (§6.4). */
function assertError(r: Response, status: number): void {
  assert.equal(r.status, status, `RESPONSE status (message: ${r.status ? decodeStatus(r.payload).message : "-"})`);
  const st = decodeStatus(r.payload);
  assert.equal(st.code, status, "Status.code equals the RESPONSE status (§6.4)");
}

/** Sends the REQUESTs with these ids in order; each but the last must be answered with status 0. */
async function callIds(conn: RawConn, ids: number[]): Promise<void> {
  for (const id of ids.slice(0, -1)) assert.equal((await conn.call(id, ping())).status, 0, `call id ${id}`);
  conn.write(request(ids[ids.length - 1]!, ping()));
}

export const requestCases: Case[] = [
  {
    rule: "§5.1",
    name: "a NO_REPLY REQUEST gets no RESPONSE",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      conn.write(request(1, ping(), FLAG_NO_REPLY), request(2, ping()));
      // The next frame is the answer to call 2: call 1 was not answered.
      assert.equal((await conn.response(2)).status, 0);
    },
  },
  protocolErrorCase("§5.2", "call id 0 is a protocol error", request(0, ping())),
  {
    rule: "§5.3",
    name: "ids 1, 2, 3, 10 increase: all are served",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      for (const id of [1, 2, 3, 10]) assert.equal((await conn.call(id, ping())).status, 0);
    },
  },
  {
    rule: "§5.3",
    name: "a decreasing call id is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      await callIds(conn, [5, 3]);
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§5.3",
    name: "reusing the id of an answered call is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      await callIds(conn, [1, 1]);
      await expectProtocolError(conn);
    },
  },
  protocolErrorCase("§5.3", "a first id of 2^31 is a protocol error (prev is 0)", request(0x80000000, ping())),
  {
    rule: "§5.3",
    name: "a jump of exactly 2^31 is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      await callIds(conn, [1, 0x80000001]);
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§5.3",
    name: "ids wrap: 0x7fffffff, 0xfffffffe, 0xffffffff, then 1 and 2 are served",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      for (const id of [0x7fffffff, 0xfffffffe, 0xffffffff, 1, 2]) assert.equal((await conn.call(id, ping())).status, 0, `id ${id}`);
    },
  },
  {
    rule: "§5.5",
    name: "an unknown codec is answered with status 3 and codec 0",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { ...ping(), codec: 7 });
      assertError(r, 3);
      assert.equal(r.codec, CODEC_PROTO, "codec byte (§6.5)");
      assert.equal((await conn.call(2, ping())).status, 0, "the connection stays usable (§9.14)");
    },
  },
  protocolErrorCase("§5.6", "method_len 0 is a protocol error", request(1, { method: "" })),
  ...[
    ["a space", `${NODE_SERVICE}/Pi ng`],
    ["a byte 0x80", Buffer.concat([Buffer.from(`${NODE_SERVICE}/Ping`), Buffer.from([0x80])])],
    ["a control byte", `${NODE_SERVICE}/Ping\n`],
    ["no '/'", `${NODE_SERVICE}.Ping`],
    ["two '/'", `${NODE_SERVICE}/Ping/Again`],
  ].map(
    ([what, method]): Case => ({
      rule: "§5.7",
      name: `a method name with ${String(what)} is answered with status 3`,
      async run(ctx) {
        const { conn } = await ctx.handshake();
        assertError(await conn.call(1, { method: method!, payload: Buffer.alloc(0) }), 3);
        assert.equal((await conn.call(2, ping())).status, 0, "the connection stays usable (§9.14)");
      },
    }),
  ),
  {
    rule: "§5.8",
    name: "an unknown service is answered with status 5",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      assertError(await conn.call(1, { method: "no.such.v1.Service/Method" }), 5);
    },
  },
  {
    rule: "§5.8",
    name: "an unknown method of a hosted service is answered with status 12",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      assertError(await conn.call(1, { method: `${NODE_SERVICE}/NoSuchMethod` }), 12);
    },
  },
  protocolErrorCase("§5.10", "a REQUEST body shorter than 8 bytes is a protocol error", frame(T.Request, 0, 1, Buffer.from([0, 0, 0, 0, 0, 1, 0x61]))),
  {
    rule: "§5.10",
    name: "a method running past the end of the frame is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const b = Buffer.from([0, 0, 0, 0, 0, 200, 0x61, 0x2f, 0x62, 0, 0]);
      conn.write(frame(T.Request, 0, 1, b));
      await expectProtocolError(conn);
    },
  },
  protocolErrorCase("§5.10", "a metadata block running past the end of the frame is a protocol error", request(1, { ...ping(), md: Buffer.alloc(0), mdLen: 500 })),
  {
    rule: "§6.3",
    name: "a successful RESPONSE has status 0, codec 0, ret 0, no metadata and the response message",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, ping("payload-1"));
      assert.deepEqual([r.status, r.codec, r.ret, r.md.length], [0, CODEC_PROTO, 0, 0]);
      assert.equal(Buffer.from(decode(PingResponseSchema, r.payload).payload).toString(), "payload-1");
    },
  },
  {
    rule: "§6.5",
    name: "an error RESPONSE to a JSON request has codec 1 and a protobuf Status payload",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { method: "no.such.v1.Service/Method", codec: CODEC_JSON, payload: Buffer.from("{}") });
      assertError(r, 5);
      assert.equal(r.codec, CODEC_JSON);
    },
  },
  {
    rule: "§6.5",
    name: "an error RESPONSE to a PROTO request has codec 0",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { method: `${NODE_SERVICE}/NoSuchMethod` });
      assertError(r, 12);
      assert.equal(r.codec, CODEC_PROTO);
    },
  },
  {
    rule: "§6.6",
    name: "a response longer than the client's max_frame_size is answered with status 8",
    async run(ctx) {
      const { conn } = await ctx.handshake({ maxFrameSize: MIN_MAX_FRAME_SIZE });
      const r = await conn.call(1, { method: PING, payload: encode(PingRequestSchema, { payload: Buffer.alloc(MIN_MAX_FRAME_SIZE, 1) }) });
      assertError(r, 8);
      assert.equal((await conn.call(2, ping())).status, 0, "the connection stays usable (§9.14)");
    },
  },
];
