export { getCodec } from "./codec.js";
export type { MessageCodec } from "./types.js";
export { Writer } from "./writer.js";
