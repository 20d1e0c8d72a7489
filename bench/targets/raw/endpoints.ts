/**
 * The socket ends shared by the raw targets: one connection per client, FIFO
 * matching of answers, batched writes (framing.ts). What a frame carries is up to
 * the target: `raw` echoes opaque bytes, `raw-codec` runs the protobuf codec on
 * both sides. Keeping the socket code in one place makes raw-codec / raw measure
 * exactly the codec's cost.
 */
import net from "node:net";
import type { TargetConfig } from "../../lib/protocol.js";
import { retry, serverPort, type StartedClient, type StartedServer } from "../../lib/target.js";
import { BatchedWriter, FrameReader, Ring } from "./framing.js";

/** Listens on the target's port and hands each connection to `onSocket`; close() destroys them all. */
export async function listenSockets(cfg: TargetConfig, onSocket: (socket: net.Socket) => void): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(serverPort(cfg), cfg.host, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Server side: `handle` maps a request frame (header included) to the response frame. */
export async function listenFramed(cfg: TargetConfig, handle: (frame: Buffer) => Buffer): Promise<StartedServer> {
  let count = 0;
  const server = await listenSockets(cfg, (socket) => {
    const writer = new BatchedWriter(socket);
    const reader = new FrameReader((f) => {
      count++;
      writer.send(handle(f), false);
    });
    socket.on("data", (chunk: Buffer) => {
      writer.beginBurst();
      reader.push(chunk);
      writer.endBurst();
    });
  });
  return { count: () => count, close: () => server.close() };
}

/** Connects to the target's server (retrying while it starts), Nagle off. */
export async function connectSocket(cfg: TargetConfig): Promise<net.Socket> {
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
  return socket;
}

export interface FramedCalls {
  /** The frame to send for the next call (header included). */
  request(): Buffer;
  /** Handles the answer frame (header included); a throw fails that call. */
  response(frame: Buffer): void;
}

/** Client side: one socket; the server answers in order, so calls are matched FIFO. */
export async function connectFramed(cfg: TargetConfig, calls: FramedCalls): Promise<StartedClient> {
  const socket = await connectSocket(cfg);
  const writer = new BatchedWriter(socket);
  // FIFO of completion callbacks.
  const waiters = new Ring<(err: unknown) => void>();
  let inflight = 0;
  const reader = new FrameReader((f) => {
    const done = waiters.shift();
    inflight--;
    let err: unknown;
    try {
      calls.response(f);
    } catch (e) {
      err = e;
    }
    done?.(err);
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
        writer.send(calls.request(), ++inflight === 1);
      },
    },
    close: async () => {
      socket.destroy();
    },
  };
}
