/**
 * raw-codec, stream suite: the floor of a protobuf server stream. A client asks
 * with one 4-byte-length frame whose body is a u32 count (0 = until it hangs
 * up); the server encodes the message with goms's codec into length-prefixed
 * frames, 32 frames per socket write (goms's write batch), and waits for
 * "drain" when the socket is full. No per-stream flow control, no stream ids.
 */
import { makeStreamedMessage } from "../../lib/payload.js";
import { serveTarget } from "../../lib/target.js";
import { listenSockets } from "../raw/endpoints.js";
import { FrameReader } from "../raw/framing.js";
import { Writer, appendBenchFrame } from "./codec-frame.js";

const BATCH_FRAMES = 32;
/** Batches written before the event loop gets a turn (timers, IPC, other sockets). */
const BATCHES_PER_TURN = 16;

await serveTarget(async (cfg) => {
  let count = 0;
  const msg = makeStreamedMessage();
  const server = await listenSockets(cfg, (socket) => {
    const w = new Writer();
    let started = false;
    const reader = new FrameReader((f) => {
      if (started) return;
      started = true;
      const n = f.length >= 8 ? f.readUInt32BE(4) : 0;
      let sent = 0;
      const pump = (): void => {
        for (let b = 0; b < BATCHES_PER_TURN; b++) {
          if (socket.destroyed) return;
          for (let k = 0; k < BATCH_FRAMES && (n === 0 || sent < n); k++) {
            appendBenchFrame(w, msg);
            sent++;
            count++;
          }
          const ok = socket.write(w.take());
          if (n !== 0 && sent >= n) {
            socket.end();
            return;
          }
          if (!ok) {
            socket.once("drain", pump);
            return;
          }
        }
        setImmediate(pump);
      };
      pump();
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
  });
  return { count: () => count, close: () => server.close() };
});
