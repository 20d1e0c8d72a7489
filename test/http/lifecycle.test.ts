import assert from "node:assert/strict";
import { createServer, request, type ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { closeHttp, listenHttp } from "../../src/internal/http/server.js";

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ port, host: "127.0.0.1", path: "/", agent: false, headers: { connection: "keep-alive" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end();
  });
}

describe("internal/http: closeHttp", () => {
  it("lets a request in flight finish within the grace period", async () => {
    let held: ServerResponse | undefined;
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const server = createServer((_req, res) => {
      held = res;
      arrived();
    });
    const port = await listenHttp(server, 0, "127.0.0.1");
    const answer = get(port);
    await arrival;
    const closed = closeHttp(server, 60_000);
    held!.end("done");
    assert.equal(await answer, 200);
    await closed;
    assert.equal(server.listening, false);
  });

  it("cuts a request still running when the grace period ends", async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const server = createServer(() => arrived());
    const port = await listenHttp(server, 0, "127.0.0.1");
    const answer = get(port);
    await arrival;
    await closeHttp(server, 50);
    await assert.rejects(answer, /socket hang up|ECONNRESET/);
  });

  it("listenHttp rejects when the port is taken", async () => {
    const a = createServer();
    const port = await listenHttp(a, 0, "127.0.0.1");
    try {
      await assert.rejects(listenHttp(createServer(), port, "127.0.0.1"), /EADDRINUSE/);
    } finally {
      await closeHttp(a, 0);
    }
  });
});
