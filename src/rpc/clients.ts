import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { CallOptions } from "./types.js";

/** Builds an object with one function per unary method, each forwarding to `call`. */
export function makeClients(
  desc: DescService,
  call: (method: DescMethod, request: unknown, options: CallOptions | undefined) => Promise<unknown>,
): Record<string, (request: unknown, options?: CallOptions) => Promise<unknown>> {
  const out: Record<string, (request: unknown, options?: CallOptions) => Promise<unknown>> = {};
  for (const m of desc.methods) {
    if (m.methodKind !== "unary") continue;
    out[m.localName] = (request, options) => call(m, request, options);
  }
  return out;
}
