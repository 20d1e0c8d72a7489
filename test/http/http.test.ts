import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Code, GomsError, gomsError } from "../../src/errors/index.js";
import { readBody } from "../../src/internal/http/body.js";
import { clientIp, IpSet } from "../../src/internal/http/client-ip.js";
import { errorBody, httpStatus, sendError } from "../../src/internal/http/json.js";

describe("internal/http: client address", () => {
  it("IpSet accepts IPs and CIDRs and refuses anything else with GOMS_ERR_INVALID_OPTION", () => {
    const s = new IpSet(["10.0.0.0/8", "::1", "2001:db8::/32", "192.168.1.7"]);
    for (const ip of ["10.1.2.3", "::ffff:10.9.9.9", "::1", "2001:db8::5", "192.168.1.7"]) assert.equal(s.has(ip), true, ip);
    for (const ip of ["11.0.0.1", "192.168.1.8", "2001:db9::1", "", "nope"]) assert.equal(s.has(ip), false, ip);
    fc.assert(
      fc.property(fc.string(), (entry) => {
        try {
          new IpSet([entry]);
        } catch (e) {
          assert.ok(e instanceof GomsError && e.reason === "GOMS_ERR_INVALID_OPTION", String(e));
        }
      }),
    );
  });

  it("reads X-Forwarded-For right to left, only behind trusted proxies", () => {
    const trusted = new IpSet(["127.0.0.0/8", "10.0.0.0/8"]);
    assert.equal(clientIp("::ffff:127.0.0.1", undefined, trusted), "127.0.0.1");
    assert.equal(clientIp("203.0.113.9", "198.51.100.1", trusted), "203.0.113.9");
    assert.equal(clientIp("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.0.0.2", trusted), "203.0.113.7");
    assert.equal(clientIp("127.0.0.1", ["198.51.100.1", "10.0.0.3"], trusted), "198.51.100.1");
    assert.equal(clientIp("127.0.0.1", "10.0.0.2, junk", trusted), "10.0.0.2");
    // Whatever the header says, the answer is the peer or one of its well-formed hops.
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())), fc.ipV4(), (hops, peer) => {
        const ip = clientIp(peer, hops.join(","), trusted);
        assert.ok(ip === peer || hops.map((h) => h.trim()).some((h) => h === ip || h === `::ffff:${ip}`), ip);
      }),
    );
  });
});

describe("internal/http: bodies and errors over real HTTP", () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      readBody(req, 16, 300).then(
        (text) => res.end(text),
        (e: unknown) => sendError(res, e),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("reads a body within the limit and refuses a larger one with 413", async () => {
    assert.equal(await (await fetch(base, { method: "POST", body: "0123456789" })).text(), "0123456789");
    const big = await fetch(base, { method: "POST", body: "x".repeat(17) });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get("connection"), "close");
    assert.deepEqual(await big.json(), { code: "resource_exhausted", message: "request body exceeds 16 bytes", reason: "GOMS_ERR_BODY_TOO_LARGE" });
  });

  it("maps codes and reasons to HTTP statuses and builds the error body", () => {
    assert.equal(httpStatus(Code.Unavailable), 503);
    assert.equal(httpStatus(Code.InvalidArgument, "GOMS_ERR_UNSUPPORTED_MEDIA_TYPE"), 415);
    assert.equal(httpStatus(Code.InvalidArgument, "MYAPP_ERR_X"), 400);
    const e = new GomsError("m", Code.FailedPrecondition, { ret: 9, details: [{ type: "t", value: new Uint8Array([255]) }], reason: "MYAPP_ERR_X" });
    assert.deepEqual(errorBody(e), { code: "failed_precondition", message: "m", reason: "MYAPP_ERR_X", ret: 9, details: [{ type: "t", value: "/w==" }] });
    assert.deepEqual(errorBody(gomsError("GOMS_ERR_NO_ROUTE", { path: "/x" })), { code: "not_found", message: "no route for /x", reason: "GOMS_ERR_NO_ROUTE" });
  });
});

/** Reads one HTTP/1.1 response (with content-length) from a raw socket: status and body. */
function readResponse(sock: Socket): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer): void => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? "0");
      if (buf.length < end + 4 + len) return;
      sock.off("data", onData);
      resolve({ status: Number(buf.slice(9, 12)), body: buf.slice(end + 4, end + 4 + len) });
    };
    sock.on("data", onData);
    sock.once("error", reject);
  });
}

describe("internal/http: body timeout on a keep-alive connection", () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      readBody(req, 64, 1000).then(
        (text) => res.end(text),
        (e: unknown) => sendError(res, e),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const post = (body: string, len = body.length): string => `POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${len}\r\n\r\n${body}`;

  it("gives each body on the connection its whole timeout, counted from when it is read", async () => {
    const sock = connect(port, "127.0.0.1");
    try {
      sock.write(post("first"));
      assert.deepEqual(await readResponse(sock), { status: 200, body: "first" });
      await sleep(600);
      // The second body arrives 600 ms after its headers: 1200 ms after the first body, within its own 1000 ms.
      const second = readResponse(sock);
      sock.write(post("", 6));
      await sleep(600);
      sock.write("second");
      assert.deepEqual(await second, { status: 200, body: "second" });
    } finally {
      sock.destroy();
    }
  });

  it("answers 408 for a body that stalls after an earlier request on the same connection", async () => {
    const sock = connect(port, "127.0.0.1");
    try {
      sock.write(post("first"));
      assert.deepEqual(await readResponse(sock), { status: 200, body: "first" });
      sock.write(post("par", 10));
      const r = await readResponse(sock);
      assert.equal(r.status, 408);
      assert.equal((JSON.parse(r.body) as { reason: string }).reason, "GOMS_ERR_BODY_TIMEOUT");
    } finally {
      sock.destroy();
    }
  });
});
