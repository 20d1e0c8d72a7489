/**
 * raw-codec: the raw target's socket and batching, but the server decodes each
 * request with goms's codec, sets field1/field2 like every echo server here, and
 * encodes the response. The floor of any protobuf RPC over one connection.
 */
import { serveTarget } from "../../lib/target.js";
import { listenFramed } from "../raw/endpoints.js";
import { Writer, decodeBenchFrame, encodeBenchFrame } from "./codec-frame.js";

await serveTarget((cfg) => {
  const w = new Writer();
  return listenFramed(cfg, (frame) => {
    const req = decodeBenchFrame(frame);
    req.field1 = "OK";
    req.field2 = 100;
    return encodeBenchFrame(w, req);
  });
});
