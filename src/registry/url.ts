import { Code, GomsError } from "../errors/index.js";
import { embeddedKv } from "../kv/embedded.js";
import { etcdKv, type EtcdKvOptions } from "./etcd.js";
import type { KvBackend } from "../kv/backend.js";

export interface RegistryUrlOptions {
  /** Extra etcd options for etcd:// URLs. */
  readonly etcd?: Omit<EtcdKvOptions, "endpoints">;
}

/** The watch client module, written separately; loaded only for watch:// URLs. */
const WATCH_CLIENT = "../watch/client.js";

interface WatchClientModule {
  createWatchClient(opts: { url: string }): KvBackend | Promise<KvBackend>;
}

function isWatchClientModule(m: unknown): m is WatchClientModule {
  return typeof m === "object" && m !== null && typeof (m as { createWatchClient?: unknown }).createWatchClient === "function";
}

async function watchClient(url: string): Promise<KvBackend> {
  let mod: unknown;
  try {
    mod = await import(WATCH_CLIENT);
  } catch (e) {
    throw new GomsError(`registry ${url}: the watch client (src/watch/client.ts) is not available in this build`, Code.Unimplemented, { cause: e });
  }
  if (!isWatchClientModule(mod)) {
    throw new GomsError(`registry ${url}: src/watch/client.ts does not export createWatchClient`, Code.Unimplemented);
  }
  return mod.createWatchClient({ url });
}

function hostPorts(url: string, rest: string): string[] {
  const hosts = rest.replace(/\/+$/, "").split(",").map((h) => h.trim());
  for (const h of hosts) {
    if (!/^[^\s/:,]+:\d{1,5}$/.test(h) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(h)) {
      throw new GomsError(`registry URL ${JSON.stringify(url)}: expected host:port, got ${JSON.stringify(h)}`, Code.InvalidArgument);
    }
  }
  return hosts;
}

/**
 * A KvBackend from a registry URL:
 * - `embedded:` an in-process store (single process only);
 * - `watch://host:port` the goms watch server;
 * - `etcd://host:port[,host:port...]` an etcd v3 cluster (plain http).
 */
export async function registryFromUrl(url: string, opts: RegistryUrlOptions = {}): Promise<KvBackend> {
  if (url === "embedded:" || url === "embedded://") return embeddedKv();
  const m = /^([a-z]+):\/\/(.+)$/.exec(url);
  if (m !== null && m[1] === "watch") {
    hostPorts(url, m[2] as string);
    return watchClient(url);
  }
  if (m !== null && m[1] === "etcd") {
    const endpoints = hostPorts(url, m[2] as string).map((h) => `http://${h}`);
    return etcdKv({ ...opts.etcd, endpoints });
  }
  throw new GomsError(
    `unsupported registry URL ${JSON.stringify(url)} (use embedded:, watch://host:port or etcd://host:port[,host:port])`,
    Code.InvalidArgument,
  );
}
