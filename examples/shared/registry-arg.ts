// Shared by the examples: --registry URL (or GOMS_REGISTRY), default the watch server on 127.0.0.1:12345.
import { createRegistry, registryFromUrl } from "../../src/registry/index.js";
import { watchSchemes } from "../../src/watch/index.js";

export function registryUrl(flag: string | undefined): string {
  return flag ?? process.env["GOMS_REGISTRY"] ?? "watch://127.0.0.1:12345";
}

export async function openRegistry(url: string, ttlMs = Number(process.env["GOMS_TTL_MS"] ?? 3000)) {
  const kv = await registryFromUrl(url, { schemes: watchSchemes });
  return { kv, registry: createRegistry({ kv, ttlMs }) };
}
