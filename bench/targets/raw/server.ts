/** raw: node:net echo of opaque length-prefixed frames, batched writes. */
import { serveTarget } from "../../lib/target.js";
import { listenFramed } from "./endpoints.js";

await serveTarget((cfg) => listenFramed(cfg, (frame) => frame));
