/**
 * bare-sse, stream suite: a bare node:http server answering the gateway's
 * Stream route with text/event-stream, as a hand-written endpoint would: the
 * same headers and event framing as the goms gateway, JSON.stringify of a
 * plain object per message (the same JSON the gateway sends), written until
 * write() returns false, then again after 'drain', at most TURN_MESSAGES
 * per turn of the event loop.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import { SSE_END_OK, SSE_HEADERS, SSE_PREAMBLE, SSE_STREAM_PATH, makeStreamedJson } from "../../lib/sse.js";
import { serveTarget, serverPort } from "../../lib/target.js";

/**
 * Messages written in one event-loop turn at most. While the kernel takes
 * the bytes at once, write() keeps returning true, and when it returns false
 * 'drain' still comes before the event loop's next turn (node emits it from
 * process.nextTick once the kernel took the bytes): a loop waiting only for
 * false and 'drain' would never yield to the other connections, nor to the
 * parent's CPU snapshots. Every batch ends with a turn of the event loop.
 */
const TURN_MESSAGES = 32;

/** Resolves true on the next turn, false if the response closed meanwhile. */
function nextTurn(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => setImmediate(() => resolve(!res.destroyed)));
}

/** Resolves true on 'drain', false on 'close' (a client that went away never drains); leaves no listener behind. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}

await serveTarget(async (cfg) => {
  let count = 0;
  const msg = makeStreamedJson();

  /** Writes `n` messages (0: until the client goes away), pausing whenever node:http's buffer is full. */
  const stream = async (res: ServerResponse, n: number): Promise<void> => {
    res.writeHead(200, SSE_HEADERS);
    res.write(SSE_PREAMBLE);
    for (let i = 0; n === 0 || i < n; ) {
      let ok = true;
      const turnEnd = i + TURN_MESSAGES;
      for (; ok && i < turnEnd && (n === 0 || i < n); i++) {
        count++;
        ok = res.write(`event: message\ndata: ${JSON.stringify(msg)}\n\n`);
      }
      if (!ok && !(await drained(res))) return;
      if (!(await nextTurn(res))) return;
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
