/** raw: one socket, FIFO matching of echoed frames, batched writes. */
import net from "node:net";
import { benchBinary } from "../../lib/payload.js";
import { clientTarget, retry, serverPort } from "../../lib/target.js";
import { BatchedWriter, FrameReader, Ring, frame } from "./framing.js";

await clientTarget(async (cfg) => {
  const socket = await retry(
    () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(serverPort(cfg), cfg.host);
        s.once("connect", () => {
          s.off("error", reject);
          resolve(s);
        });
        s.once("error", reject);
      }),
  );
  socket.setNoDelay(true);
  const request = frame(benchBinary());
  const writer = new BatchedWriter(socket);
  // FIFO of completion callbacks: the server answers in order on one connection.
  const waiters = new Ring<(err: unknown) => void>();
  let inflight = 0;
  const reader = new FrameReader(() => {
    const done = waiters.shift();
    inflight--;
    done?.(undefined);
  });
  socket.on("data", (chunk: Buffer) => {
    writer.beginBurst();
    reader.push(chunk);
    writer.endBurst();
  });
  const failAll = (err: unknown): void => {
    inflight = 0;
    for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) w(err);
  };
  socket.on("error", failAll);
  socket.on("close", () => failAll(new Error("connection closed")));
  return {
    call: {
      kind: "callback",
      invoke: (done) => {
        waiters.push(done);
        writer.send(request, ++inflight === 1);
      },
    },
    close: async () => {
      socket.destroy();
    },
  };
});
