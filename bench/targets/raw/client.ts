/** raw: one socket, FIFO matching of echoed frames, batched writes; the bytes are opaque. */
import { benchBinary } from "../../lib/payload.js";
import { clientTarget } from "../../lib/target.js";
import { connectFramed } from "./endpoints.js";
import { frame } from "./framing.js";

await clientTarget((cfg) => {
  const request = frame(benchBinary());
  return connectFramed(cfg, { request: () => request, response: () => {} });
});
