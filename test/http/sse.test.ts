// The one SSE writer (src/internal/http/sse.ts) and the HTTP timeouts helper,
// over real sockets: a client that stops reading is dropped once the bytes
// held for it pass the limit (broadcast producers) or once it has taken
// nothing for a heartbeat period (producers that wait), and slow headers are
// cut near the header timeout.
import assert from "node:assert/strict";
import { createServer, get, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import { closeHttp, httpServerOptions, listenHttp } from "../../src/internal/http/server.js";
import { SseStream, type SseEnd, type SseLimits } from "../../src/internal/http/sse.js";

let server: Server | undefined;

/** A server that opens one SseStream per request; resolves with the port and the first stream. */
async function sseServer(limits: SseLimits): Promise<{ port: number; stream: Promise<SseStream> }> {
  let got!: (s: SseStream) => void;
  const stream = new Promise<SseStream>((r) => (got = r));
  server = createServer((_req, res: ServerResponse) => got(new SseStream(res, limits)));
  const port = await listenHttp(server, 0, "127.0.0.1");
  return { port, stream };
}

/** A raw client that sends the request, reads the response head, then stops reading. */
async function stalledClient(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.write("GET /events HTTP/1.1\r\nhost: x\r\n\r\n");
  await new Promise((r) => socket.once("data", r));
  socket.pause();
  return socket;
}

function ended(s: SseStream): Promise<SseEnd> {
  return new Promise((r) => s.onClose(r));
}

afterEach(async () => {
  if (server) await closeHttp(server, 0);
  server = undefined;
});

describe("internal/http: SseStream", () => {
  it("drops a client that does not read once the bytes held pass maxQueuedBytes (broadcast)", async () => {
    const limit = 64 * 1024;
    const { port, stream } = await sseServer({ maxQueuedBytes: limit, heartbeatMs: 60_000 });
    const socket = await stalledClient(port);
    const s = await stream;
    const event = { text: "x".repeat(1000) };
    let sent = 0;
    let maxQueued = 0;
    // Unbounded, all 200k events (~200 MiB) would be queued; the loop ends at the first refused send.
    while (sent < 200_000 && s.send("e", event)) {
      sent++;
      maxQueued = Math.max(maxQueued, s.queuedBytes);
    }
    assert.equal(s.open, false);
    assert.equal(await ended(s), "too-slow");
    assert.ok(sent < 200_000, `sent ${sent}`);
    assert.ok(maxQueued <= limit, `held ${maxQueued} bytes`);
    assert.equal(s.send("e", event), false, "nothing is written after the drop");
    socket.destroy();
  });

  it("a producer that waits holds one event, and a client that stalls for a heartbeat period is dropped", async () => {
    const { port, stream } = await sseServer({ maxQueuedBytes: 1 << 30, heartbeatMs: 200 });
    const socket = await stalledClient(port);
    const s = await stream;
    let sent = 0;
    let maxQueued = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && s.send("e", { text: "y".repeat(1000) }) && (await s.writable())) {
      sent++;
      maxQueued = Math.max(maxQueued, s.queuedBytes);
    }
    assert.equal(await ended(s), "too-slow");
    // Only the kernel's socket buffers and one event beyond the high-water mark were filled.
    assert.ok(maxQueued < 256 * 1024, `held ${maxQueued} bytes after ${sent} events`);
    socket.destroy();
  });

  it("ends politely with a last event, and reports a client that goes away", async () => {
    const { port, stream } = await sseServer({});
    const body = new Promise<string>((resolve, reject) => {
      get({ port, host: "127.0.0.1", path: "/events", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    const s = await stream;
    s.send("hello", { n: 1 });
    s.end({ name: "bye", data: { n: 2 } });
    assert.equal(await body, 'retry: 2000\n\nevent: hello\ndata: {"n":1}\n\nevent: bye\ndata: {"n":2}\n\n');
    assert.equal(await ended(s), "ended");
    await closeHttp(server!, 0);
    const second = await sseServer({});
    const socket = await stalledClient(second.port);
    const s2 = await second.stream;
    socket.destroy();
    assert.equal(await ended(s2), "closed");
  });

  it("events written in one tick leave as a few large HTTP chunks, not one chunk each", async () => {
    const { port, stream } = await sseServer({ heartbeatMs: 60_000 });
    const socket = connect(port, "127.0.0.1");
    socket.write("GET /events HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    const raw: Buffer[] = [];
    socket.on("data", (c: Buffer) => raw.push(c));
    const closed = new Promise((r) => socket.once("close", r));
    const s = await stream;
    // 500 events of ~120 bytes in one tick: about 60 KB.
    for (let n = 0; n < 500; n++) s.send("e", { n, text: "y".repeat(100) });
    s.end();
    await closed;
    const text = Buffer.concat(raw).toString("latin1");
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    // Chunked encoding: <hex size>\r\n<data>\r\n ... 0\r\n\r\n.
    let pos = 0;
    let chunks = 0;
    let events = "";
    for (;;) {
      const eol = body.indexOf("\r\n", pos);
      const size = parseInt(body.slice(pos, eol), 16);
      if (size === 0) break;
      events += body.slice(eol + 2, eol + 2 + size);
      pos = eol + 2 + size + 2;
      chunks++;
    }
    assert.equal(events.split("event: e\n").length - 1, 500, "every event arrived");
    assert.ok(events.startsWith("retry: 2000\n\nevent: e\n"));
    // A batch is sent at 16 Ki UTF-16 units: 60 KB of ASCII is 4 batches. One chunk per event would be 501.
    assert.ok(chunks <= 6, `${chunks} chunks`);
  });
});

describe("internal/http: httpServerOptions", () => {
  it("enforces the header timeout within a second or so, not at node:http's 30 s check", async () => {
    server = createServer(httpServerOptions({ headersTimeoutMs: 1000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 1000 }), (_req, res) => res.end());
    const port = await listenHttp(server, 0, "127.0.0.1");
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    const closed = new Promise((r) => socket.once("close", r));
    socket.write("GET / HTTP/1.1\r\nhost: x\r\n");
    const trickle = setInterval(() => socket.destroyed || socket.write("x-slow: y\r\n"), 200);
    let timer: NodeJS.Timeout | undefined;
    const cut = await Promise.race([closed.then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), 10_000)))]);
    clearInterval(trickle);
    clearTimeout(timer);
    socket.destroy();
    assert.equal(cut, true, "closed within 10 s of a 1 s header timeout");
  });
});
