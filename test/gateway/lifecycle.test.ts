import assert from "node:assert/strict";
import net from "node:net";
import { after, afterEach, describe, it } from "node:test";
import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { file_goms_test_v1_all_types } from "../gen/goms/test/v1/all_types_pb.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { NodeSet, sleep } from "../helpers.js";
import { closeAgent, createGateway, hostDb, MemoryRegistry, post, request, startEnv } from "./helpers.js";

const nodes = new NodeSet();
const gateways: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await nodes.closeAll();
});
after(() => closeAgent());

/** goms.test.v1.Echo { rpc All(AllTypes) returns (AllTypes) }, built at runtime. */
function echoService(): DescService {
  const fdp = create(FileDescriptorProtoSchema, {
    name: "goms/test/v1/echo.proto",
    package: "goms.test.v1",
    syntax: "proto3",
    dependency: ["goms/test/v1/all_types.proto"],
    service: [{ name: "Echo", method: [{ name: "All", inputType: ".goms.test.v1.AllTypes", outputType: ".goms.test.v1.AllTypes" }] }],
  });
  const reg = createFileRegistry(fdp, (name) => (name === "goms/test/v1/all_types.proto" ? file_goms_test_v1_all_types : undefined));
  return reg.getService("goms.test.v1.Echo")!;
}

function hostEcho(n: GomsNode): void {
  n.service(echoService(), { all: (req: unknown) => req } as never);
}

describe("gateway: discovery of services", () => {
  it("reaches a service registered after the gateway started (registry), with proto3 JSON for int64 and enums", async () => {
    const registry = new MemoryRegistry();
    await nodes.start({ identity: { name: "db0" }, listen: { port: 0 }, discovery: { registry } }, hostDb);
    const gwNode = await nodes.start({ identity: { name: "gate0" }, discovery: { registry } });
    const gw = createGateway({ node: gwNode });
    gateways.push(gw);
    const port = (await gw.start()).port;
    assert.equal((await post(port, "/api/DB/Update", '{"key":"a","value":"b"}')).status, 200);
    assert.equal((await post(port, "/api/Echo/All", "{}")).status, 404);
    await nodes.start({ identity: { name: "echo0" }, listen: { port: 0 }, discovery: { registry } }, hostEcho);
    const r = await post(port, "/api/echo/all", '{"fInt64":"-9007199254740993","fUint64":4294967296,"fEnum":"COLOR_GREEN","fBytes":"AQI="}');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { fInt64: "-9007199254740993", fUint64: "4294967296", fEnum: "COLOR_GREEN", fBytes: "AQI=" });
    assert.equal((await post(port, "/api/Echo/All", '{"fEnum":"COLOR_PURPLE"}')).status, 400);
    const doc = (await request(port, "GET", "/openapi.json")).json as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    assert.ok(doc.paths["/api/Echo/All"]);
    const props = doc.components.schemas["goms.test.v1.AllTypes"]!.properties!;
    assert.deepEqual(props["fInt64"], { type: "string", format: "int64" });
    assert.deepEqual(props["fEnum"], { $ref: "#/components/schemas/goms.test.v1.Color" });
    assert.deepEqual((doc.components.schemas["goms.test.v1.Color"] as unknown as { enum: string[] }).enum, ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN", "COLOR_NEGATIVE"]);
  });

  it("reaches a service on a peer added after the gateway started (static peers)", async () => {
    const e = await startEnv(nodes);
    gateways.push(e.gw);
    assert.equal((await post(e.port, "/api/Echo/All", "{}")).status, 404);
    const echo = await nodes.start({ identity: { name: "echo0" }, listen: { port: 0 } }, hostEcho);
    e.gwNode.addPeer({ host: "127.0.0.1", port: echo.port });
    let r;
    for (let i = 0; i < 50; i++) {
      r = await post(e.port, "/api/Echo/All", '{"fInt64":"5"}');
      if (r.status === 200) break;
      await sleep(20);
    }
    assert.equal(r!.status, 200, r!.text);
    assert.deepEqual(r!.json, { fInt64: "5" });
  });
});

describe("gateway: connections and shutdown", () => {
  it("closes a slowloris socket while serving others", async () => {
    const e = await startEnv(nodes, { headersTimeoutMs: 300, requestTimeoutMs: 1000 });
    gateways.push(e.gw);
    const sock = net.connect(e.port, "127.0.0.1");
    let closedAt = 0;
    sock.on("close", () => (closedAt = Date.now()));
    sock.on("error", () => undefined);
    const start = Date.now();
    const head = "POST /api/DB/Query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Pad: ";
    let i = 0;
    const drip = setInterval(() => {
      if (!sock.destroyed) sock.write(head[i++ % head.length]!);
    }, 30);
    try {
      // Others are served meanwhile.
      for (let k = 0; k < 5; k++) {
        assert.equal((await post(e.port, "/api/DB/Query", "{}")).status, 200);
        await sleep(40);
      }
      while (closedAt === 0 && Date.now() - start < 3000) await sleep(20);
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
    assert.ok(closedAt > 0, "slow socket was not closed");
    assert.ok(closedAt - start < 2500, `closed after ${closedAt - start} ms`);
  });

  it("closes a socket that trickles its body (408)", async () => {
    const e = await startEnv(nodes, { bodyTimeoutMs: 200 });
    gateways.push(e.gw);
    const sock = net.connect(e.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => sock.on("close", () => r()));
    sock.write("POST /api/DB/Query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    await closed;
    const answer = Buffer.concat(chunks).toString();
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.equal((JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { reason: string }).reason, "GOMS_ERR_BODY_TIMEOUT");
  });

  it("drains in-flight requests on close, refusing new ones", async () => {
    const e = await startEnv(nodes, { shutdownGraceMs: 5000 });
    const slow = post(e.port, "/api/DB/Query", '{"key":"slow"}', { "x-goms-timeout-ms": "400" });
    await sleep(100);
    assert.equal(e.gw.inflight, 1);
    const t0 = Date.now();
    await e.gw.close();
    const r = await slow;
    assert.equal(r.status, 504); // the in-flight call ran to its own deadline
    assert.ok(Date.now() - t0 >= 200);
    await assert.rejects(post(e.port, "/api/DB/Query", "{}"));
  });

  it("cancels the RPC when the HTTP client goes away", async () => {
    let aborted = false;
    const db = await nodes.start({ identity: { name: "db0" }, listen: { port: 0 } }, (n) =>
      n.service(DB, {
        query: (_req, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              aborted = true;
              reject(ctx.signal.reason as Error);
            }),
          ),
      }),
    );
    const gwNode = await nodes.start({ identity: { name: "gate0" }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } });
    const gw = createGateway({ node: gwNode });
    gateways.push(gw);
    const port = (await gw.start()).port;
    const sock = net.connect(port, "127.0.0.1");
    const body = '{"key":"slow"}';
    sock.write(`POST /api/DB/Query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await sleep(150);
    assert.equal(gw.inflight, 1);
    sock.destroy();
    for (let i = 0; i < 100 && !aborted; i++) await sleep(20);
    assert.ok(aborted, "the server handler was not canceled");
    assert.equal(gw.inflight, 0);
  });
});

describe("gateway: robustness", () => {
  it("never crashes on random bodies: always a JSON error or success", async () => {
    const e = await startEnv(nodes);
    gateways.push(e.gw);
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ key: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.json()), value: fc.oneof(fc.string(), fc.json()) }).map((o) => JSON.stringify(o)),
      fc.uint8Array().map((b) => Buffer.from(b).toString("latin1")),
    );
    const path = fc.constantFrom("/api/DB/Update", "/api/DB/Query", "/api/dB/query", "/api/x/y", "/api/DB/Query?a=1&%00=2");
    await fc.assert(
      fc.asyncProperty(path, body, async (p, b) => {
        const r = await post(e.port, p, b);
        assert.ok([200, 400, 404].includes(r.status), `${r.status} ${r.text}`);
        assert.notEqual(r.json, undefined, r.text);
        if (r.status !== 200) assert.equal(typeof (r.json as { code: unknown }).code, "string");
      }),
      { numRuns: 150 },
    );
    assert.equal((await post(e.port, "/api/DB/Query", "{}")).status, 200);
  });
});
