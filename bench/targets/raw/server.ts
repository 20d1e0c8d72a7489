/** raw: node:net echo of opaque length-prefixed frames, batched writes. */
import net from "node:net";
import { serveTarget, serverPort } from "../../lib/target.js";
import { BatchedWriter, FrameReader } from "./framing.js";

await serveTarget(async (cfg) => {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const writer = new BatchedWriter(socket);
    const reader = new FrameReader((f) => {
      count++;
      writer.send(f, false);
    });
    socket.on("data", (chunk: Buffer) => {
      writer.beginBurst();
      reader.push(chunk);
      writer.endBurst();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(serverPort(cfg), cfg.host, resolve);
  });
  return {
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
});
