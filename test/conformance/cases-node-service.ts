// Cases for docs/protocol.md §14 (goms.v1.NodeService: Ping, Info, Descriptors, Health).
import assert from "node:assert/strict";
import {
  DescriptorsRequestSchema,
  DescriptorsResponseSchema,
  HealthRequestSchema,
  HealthResponseSchema,
  InfoRequestSchema,
  InfoResponseSchema,
  PingRequestSchema,
  PingResponseSchema,
  ServingStatus,
} from "../../src/gen/goms/v1/node_pb.js";
import type { Case } from "./case.js";
import { DESCRIPTORS, HEALTH, INFO, NODE_SERVICE, PING, decodeStatus, type Response } from "./frames.js";
import { decode, encode, type RawConn } from "./raw-conn.js";

function ok(r: Response): Buffer {
  assert.equal(r.status, 0, `status (message: ${r.status ? decodeStatus(r.payload).message : "-"})`);
  return r.payload;
}

async function info(conn: RawConn, id: number): Promise<ReturnType<typeof decode<typeof InfoResponseSchema>>> {
  return decode(InfoResponseSchema, ok(await conn.call(id, { method: INFO, payload: encode(InfoRequestSchema, {}) })));
}

async function descriptors(conn: RawConn, id: number, services: string[]): Promise<Response> {
  return conn.call(id, { method: DESCRIPTORS, payload: encode(DescriptorsRequestSchema, { services }) });
}

export const nodeServiceCases: Case[] = [
  {
    rule: "§14.2",
    name: "Ping echoes its payload and gives the node's clock",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const payload = Buffer.from([0, 1, 2, 0xff, 0x80, 7]);
      const before = Date.now();
      const res = decode(PingResponseSchema, ok(await conn.call(1, { method: PING, payload: encode(PingRequestSchema, { payload }) })));
      assert.deepEqual(Buffer.from(res.payload), payload);
      // Same machine in the test setup, but any node: only a sanity bound of a day.
      assert.ok(Math.abs(Number(res.timeUnixMs) - before) < 86_400_000, `time_unix_ms ${res.timeUnixMs}`);
    },
  },
  {
    rule: "§14.1",
    name: "Info lists goms.v1.NodeService with Ping, Info, Descriptors and Health, all idempotent",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const res = await info(conn, 1);
      const svc = res.services.find((s) => s.name === NODE_SERVICE);
      assert.ok(svc, `services: ${res.services.map((s) => s.name).join(", ")}`);
      const methods = Object.fromEntries(svc.methods.map((m) => [m.name, m]));
      for (const [name, input, output] of [
        ["Ping", "PingRequest", "PingResponse"],
        ["Info", "InfoRequest", "InfoResponse"],
        ["Descriptors", "DescriptorsRequest", "DescriptorsResponse"],
        ["Health", "HealthRequest", "HealthResponse"],
      ] as const) {
        const m = methods[name];
        assert.ok(m, `method ${name}`);
        assert.equal(m.inputType, `goms.v1.${input}`);
        assert.equal(m.outputType, `goms.v1.${output}`);
        assert.equal(m.idempotent, true, `${name} is idempotent`);
      }
    },
  },
  {
    rule: "§14.3",
    name: "Info's node is the node of its HELLO, and it counts this connection",
    async run(ctx) {
      const { conn, hello } = await ctx.handshake();
      const res = await info(conn, 1);
      assert.equal(res.node?.name, hello.node?.name);
      assert.ok(res.connections >= 1, `connections ${res.connections}`);
      assert.ok(res.uptimeMs > 0n, `uptime_ms ${res.uptimeMs}`);
      for (const s of res.services) assert.match(s.name, /^[A-Za-z0-9_.]+\.[A-Za-z0-9_]+$/, "fully-qualified service name");
    },
  },
  {
    rule: "§14.4",
    name: "Descriptors with no names describes the public services, dependencies first",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const res = await info(conn, 1);
      const publicServices = res.services.map((s) => s.name).filter((n) => !n.startsWith("goms.v1."));
      const set = decode(DescriptorsResponseSchema, ok(await descriptors(conn, 2, []))).files;
      assert.ok(set, "files is set");
      const described = new Set<string>();
      const seen = new Set<string>();
      for (const f of set.file) {
        for (const dep of f.dependency) assert.ok(seen.has(dep), `${f.name} comes after its dependency ${dep}`);
        assert.ok(!seen.has(f.name), `${f.name} appears once`);
        seen.add(f.name);
        for (const s of f.service) described.add(f.package ? `${f.package}.${s.name}` : s.name);
      }
      for (const name of publicServices) assert.ok(described.has(name), `${name} is described`);
      assert.ok(![...described].some((n) => n.startsWith("goms.v1.")), "internal goms.v1 services are not described");
    },
  },
  {
    rule: "§14.4",
    name: "Descriptors accepts a public service by full and by short name",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const publicServices = (await info(conn, 1)).services.map((s) => s.name).filter((n) => !n.startsWith("goms.v1."));
      let id = 2;
      for (const full of publicServices) {
        for (const name of [full, full.slice(full.lastIndexOf(".") + 1)]) {
          const set = decode(DescriptorsResponseSchema, ok(await descriptors(conn, id++, [name]))).files;
          const names = (set?.file ?? []).flatMap((f) => f.service.map((s) => `${f.package}.${s.name}`));
          assert.ok(names.includes(full), `Descriptors(${name}) describes ${full}: got ${names.join(", ")}`);
        }
      }
    },
  },
  {
    rule: "§14.5",
    name: "Descriptors for a service the node does not host is answered with status 5",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await descriptors(conn, 1, ["no.such.v1.Service"]);
      assert.equal(r.status, 5, `status ${r.status}`);
      assert.equal(decodeStatus(r.payload).code, 5);
    },
  },
  {
    rule: "§14.6",
    name: "Health of a running node: serving, with a status for each of its public services",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const publicServices = (await info(conn, 1)).services.map((s) => s.name).filter((n) => !n.startsWith("goms.v1."));
      const res = decode(HealthResponseSchema, ok(await conn.call(2, { method: HEALTH, payload: encode(HealthRequestSchema, {}) })));
      assert.equal(res.status, ServingStatus.SERVING, `node status ${res.status}`);
      assert.deepEqual(res.services.map((s) => s.service).sort(), [...publicServices].sort());
      for (const s of res.services) assert.equal(s.status, ServingStatus.SERVING, `${s.service} status ${s.status}`);
      let id = 3;
      for (const full of publicServices) {
        for (const name of [full, full.slice(full.lastIndexOf(".") + 1)]) {
          const one = decode(HealthResponseSchema, ok(await conn.call(id++, { method: HEALTH, payload: encode(HealthRequestSchema, { service: name }) })));
          assert.equal(one.status, ServingStatus.SERVING, `Health(${name})`);
          assert.deepEqual(one.services.map((s) => s.service), [full]);
        }
      }
    },
  },
  {
    rule: "§14.6",
    name: "Health of a service the node does not host is answered with status 5",
    async run(ctx) {
      const { conn } = await ctx.handshake();
      const r = await conn.call(1, { method: HEALTH, payload: encode(HealthRequestSchema, { service: "no.such.v1.Service" }) });
      assert.equal(r.status, 5, `status ${r.status}`);
      assert.equal(decodeStatus(r.payload).code, 5);
    },
  },
];
