import type { Writer } from "./writer.js";

/** Internal calling convention of the generated functions. */
export interface CompiledMessage {
  /** Appends the fields of `m` (no tag, no length prefix) to `w`. */
  enc: (m: unknown, w: Writer) => void;
  /** Decodes exactly `buf[pos, end)`, merging into `m` or a new message. `depth` is 1 for a top-level message. */
  dec: (buf: Uint8Array, pos: number, end: number, m: unknown, depth: number) => unknown;
}
