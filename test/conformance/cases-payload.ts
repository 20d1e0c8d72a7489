// Cases for docs/protocol.md §7 (metadata) and §8 (payload codecs, proto3 JSON).
import assert from "node:assert/strict";
import { PingRequestSchema } from "../../src/gen/goms/v1/node_pb.js";
import { expectProtocolError, type Case } from "./case.js";
import { CODEC_JSON, DESCRIPTORS, INFO, PING, decodeStatus, metadata, request, type Response } from "./frames.js";
import { encode } from "./raw-conn.js";

const pingPayload = encode(PingRequestSchema, { payload: Buffer.from("md") });

function mdCase(rule: string, name: string, entries: [string | Buffer, string | Buffer][], ok: boolean): Case {
  return {
    rule,
    name,
    async run(ctx) {
      const { conn } = await ctx.handshake();
      if (!ok) {
        conn.write(request(1, { method: PING, payload: pingPayload, md: metadata(entries) }));
        await expectProtocolError(conn);
        return;
      }
      const r = await conn.call(1, { method: PING, payload: pingPayload, md: metadata(entries) });
      assert.equal(r.status, 0);
    },
  };
}

/** A JSON call: status must be `status`; returns the parsed JSON body of a success. */
function jsonCall(r: Response, status: number): Record<string, unknown> {
  assert.equal(r.status, status, `status (message: ${r.status ? decodeStatus(r.payload).message : "-"})`);
  if (status !== 0) {
    assert.equal(decodeStatus(r.payload).code, status, "error payload is a protobuf Status (§6.4)");
    return {};
  }
  assert.equal(r.codec, CODEC_JSON, "a JSON request is answered in JSON (§8.1)");
  return JSON.parse(r.payload.toString("utf8")) as Record<string, unknown>;
}

export const payloadCases: Case[] = [
  mdCase("§7.1", "an upper-case metadata key is a protocol error", [["Foo", "bar"]], false),
  mdCase("§7.1", "a metadata key with a space is a protocol error", [["a b", "bar"]], false),
  mdCase("§7.1", "a metadata key of length 0 is a protocol error", [["", "bar"]], false),
  mdCase("§7.1", "metadata keys of every allowed character and of 255 bytes are accepted", [["abcdefghijklmnopqrstuvwxyz0123456789_.-", "v"], ["k".repeat(255), "v"]], true),
  mdCase("§7.2", "a metadata value that is not UTF-8 is a protocol error", [["key", Buffer.from([0x61, 0xff, 0xfe])]], false),
  mdCase("§7.2", "empty and multi-byte UTF-8 metadata values are accepted", [["a", ""], ["b", "ünïcødé ✓"]], true),
  mdCase("§7.3", "a metadata key may repeat", [["k", "1"], ["k", "2"]], true),
  {
    rule: "§7.4",
    name: "a metadata block that does not parse exactly to md_len is a protocol error",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const md = metadata([["key", "value"]]);
      // md_len cuts the entry short: its value runs past the block (but not past the frame).
      conn.write(request(1, { method: PING, payload: pingPayload, md, mdLen: md.length - 2 }));
      await expectProtocolError(conn);
    },
  },
  {
    rule: "§8.1",
    name: "a JSON Ping is answered in JSON, echoing the payload",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const body = jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from('{"payload":"aGVsbG8="}') }), 0);
      assert.equal(body["payload"], "aGVsbG8=");
    },
  },
  {
    rule: "§8.2",
    name: "an undecodable protobuf payload is answered with status 3",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { method: PING, payload: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]) });
      jsonCall(r, 3);
      assert.equal((await conn.call(2, { method: PING, payload: pingPayload })).status, 0, "the connection stays usable (§9.14)");
    },
  },
  {
    rule: "§8.3",
    name: "int64 fields are written as strings and field names in lowerCamelCase",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const body = jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from("{}") }), 0);
      assert.equal(typeof body["timeUnixMs"], "string", `timeUnixMs in ${JSON.stringify(body)}`);
      assert.match(body["timeUnixMs"] as string, /^[0-9]+$/);
      const info = jsonCall(await conn.call(2, { method: INFO, codec: CODEC_JSON, payload: Buffer.from("{}") }), 0);
      assert.equal(typeof info["uptimeMs"], "string", `uptimeMs in ${JSON.stringify(info)}`);
      assert.ok(Array.isArray(info["services"]), "services");
    },
  },
  {
    rule: "§8.3",
    name: "fields holding their default value are omitted",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const body = jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from("{}") }), 0);
      assert.equal("payload" in body, false, `an empty payload is omitted: ${JSON.stringify(body)}`);
    },
  },
  {
    rule: "§8.3",
    name: "bytes are written as standard base64 with padding",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      // 0xfb 0xff encodes to "+/8=" in standard base64, "-_8" in URL-safe.
      const body = jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from('{"payload":"+/8="}') }), 0);
      assert.equal(body["payload"], "+/8=");
    },
  },
  {
    rule: "§8.4",
    name: "URL-safe base64 without padding is read",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const echo = jsonCall(await conn.call(2, { method: PING, codec: CODEC_JSON, payload: Buffer.from('{"payload":"-_8"}') }), 0);
      assert.equal(echo["payload"], "+/8=");
    },
  },
  {
    rule: "§8.4",
    name: "a JSON list field is read (Descriptors with services: [])",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const body = jsonCall(await conn.call(1, { method: DESCRIPTORS, codec: CODEC_JSON, payload: Buffer.from('{"services":[]}') }), 0);
      assert.equal(typeof body, "object");
    },
  },
  {
    rule: "§8.4",
    name: "an unknown JSON field is answered with status 3",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from('{"payload":"","bogus":1}') }), 3);
    },
  },
  {
    rule: "§8.4",
    name: "a JSON payload that is not JSON is answered with status 3",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      jsonCall(await conn.call(1, { method: PING, codec: CODEC_JSON, payload: Buffer.from("{not json") }), 3);
      assert.equal((await conn.call(2, { method: PING, payload: pingPayload })).status, 0, "the connection stays usable (§9.14)");
    },
  },
];
