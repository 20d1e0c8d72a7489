/**
 * bare-sse, stream suite: a bare node:http server answering the gateway's
 * Stream route with text/event-stream, as a hand-written endpoint would: the
 * same headers and event framing as the goms gateway, JSON.stringify of a
 * plain object per message (the same JSON the gateway sends), written until
 * write() returns false, then again after 'drain'.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import { SSE_END_OK, SSE_HEADERS, SSE_PREAMBLE, SSE_STREAM_PATH, makeStreamedJson } from "../../lib/sse.js";
import { serveTarget, serverPort } from "../../lib/target.js";

await serveTarget(async (cfg) => {
  let count = 0;
  const msg = makeStreamedJson();

  /** Writes `n` messages (0: until the client goes away), pausing whenever node:http's buffer is full. */
  const stream = async (res: ServerResponse, n: number): Promise<void> => {
    let closed = false;
    res.once("close", () => (closed = true));
    res.writeHead(200, SSE_HEADERS);
    res.write(SSE_PREAMBLE);
    for (let i = 0; n === 0 || i < n; ) {
      let ok = true;
      for (; ok && (n === 0 || i < n); i++) {
        count++;
        ok = res.write(`event: message\ndata: ${JSON.stringify(msg)}\n\n`);
      }
      if (!ok) {
        // 'close' too: a client that goes away while the buffer is full never drains it.
        await Promise.race([once(res, "drain"), once(res, "close")]);
        if (closed) return;
      }
    }
    res.end(SSE_END_OK);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== SSE_STREAM_PATH) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { count?: string | number };
      void stream(res, Number(body.count ?? 0));
    });
  };

  const server = createServer(handle);
  server.listen(serverPort(cfg), cfg.host);
  await once(server, "listening");
  return {
    count: () => count,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
