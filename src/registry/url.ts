import { Code, GomsError } from "../errors/index.js";
import type { KvBackend, KvBackendFactory } from "../kv/backend.js";
import { embeddedKv } from "../kv/embedded.js";
import { etcdKv, type EtcdKvOptions } from "./etcd.js";

export interface RegistryUrlOptions {
  /** Extra etcd options for etcd:// URLs. */
  readonly etcd?: Omit<EtcdKvOptions, "endpoints">;
  /**
   * Backends for further URL schemes, by scheme name. The watch server's
   * client lives above this layer, so watch:// URLs work when the caller
   * passes it: `registryFromUrl(url, { schemes: watchSchemes })` with
   * `watchSchemes` from goms/watch.
   */
  readonly schemes?: Readonly<Record<string, KvBackendFactory>>;
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
 * - `etcd://host:port[,host:port...]` an etcd v3 cluster (plain http);
 * - `watch://host:port` the goms watch server, when `schemes.watch` is given;
 * - any other `<scheme>://...` found in `schemes`.
 */
export async function registryFromUrl(url: string, opts: RegistryUrlOptions = {}): Promise<KvBackend> {
  if (url === "embedded:" || url === "embedded://") return embeddedKv();
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/.exec(url);
  const scheme = m?.[1];
  const rest = m?.[2] ?? "";
  if (scheme === "etcd") {
    const endpoints = hostPorts(url, rest).map((h) => `http://${h}`);
    return etcdKv({ ...opts.etcd, endpoints });
  }
  if (scheme === "watch") hostPorts(url, rest);
  const factory = scheme === undefined ? undefined : opts.schemes?.[scheme];
  if (factory !== undefined) return factory(url);
  if (scheme === "watch") {
    throw new GomsError(
      `registry URL ${JSON.stringify(url)}: watch:// needs the watch client; pass { schemes: watchSchemes } (exported by goms/watch)`,
      Code.Unimplemented,
    );
  }
  const extra = Object.keys(opts.schemes ?? {}).map((s) => `, ${s}://...`);
  throw new GomsError(
    `unsupported registry URL ${JSON.stringify(url)} (use embedded:, etcd://host:port[,host:port]${extra.join("")})`,
    Code.InvalidArgument,
  );
}
