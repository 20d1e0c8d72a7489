export { getCodec } from "./codec.js";
export type { MessageCodec } from "./types.js";
export { Writer } from "./writer.js";
export { getJsonCodec } from "./json-codec.js";
export type { JsonCodec } from "./json-codec.js";
