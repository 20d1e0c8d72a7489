/**
 * The node registry, written once against KvBackend: each node publishes a
 * NodeRegistration under "<prefix><set>/<name>" with a lease; readers list and
 * watch the prefix. See docs/registry.md.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, GomsError } from "../errors/index.js";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import { NodeRegistrationSchema, type NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import type { KvBackend } from "../kv/backend.js";
import { watchNodes, type NodeWatch } from "./node-watch.js";
import { Registration, type RegistrationHooks } from "./registration.js";

export interface RegistryOptions {
  readonly kv: KvBackend;
  /** Lease TTL of a registration in ms (default 3000). etcd rounds it up to whole seconds. */
  readonly ttlMs?: number;
  /** Key prefix (default "goms/nodes/"). */
  readonly prefix?: string;
  /** Undecodable values found by list() and watchNodes() (they are skipped). */
  readonly onError?: (err: GomsError) => void;
}

export interface Registry {
  readonly kv: KvBackend;
  readonly ttlMs: number;
  readonly prefix: string;
  /** The key a node registers under: `<prefix><set or "default">/<name>`. */
  keyOf(identity: NodeIdentity): string;
  /**
   * Publishes the node and keeps it published until `close()`. Resolves once
   * the first write succeeded (retrying while the backend is unavailable,
   * until `hooks.signal` aborts).
   */
  register(identity: NodeIdentity, descriptors?: FileDescriptorSet, hooks?: RegistrationHooks): Promise<Registration>;
  /** Every registered node, sorted by key, and the revision they were read at. */
  list(): Promise<{ nodes: NodeRegistration[]; revision: number }>;
  /** "up" for every node now registered, then every later up/down. */
  watchNodes(): NodeWatch;
  /** Closes (deregisters) every registration and stops every watch made here. Does not close `kv`. */
  close(): Promise<void>;
}

const DEFAULT_SET = "default";

function checkPart(what: string, s: string): void {
  if (s.includes("/")) throw new GomsError(`node ${what} ${JSON.stringify(s)} must not contain "/"`, Code.InvalidArgument);
}

export function createRegistry(opts: RegistryOptions): Registry {
  const { kv } = opts;
  const ttlMs = opts.ttlMs ?? 3000;
  const prefix = opts.prefix ?? "goms/nodes/";
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new GomsError("registry ttlMs must be positive", Code.InvalidArgument);
  const registrations = new Set<Registration>();
  const watches = new Set<NodeWatch>();

  const decode = (key: string, value: Uint8Array): NodeRegistration | undefined => {
    try {
      return fromBinary(NodeRegistrationSchema, value);
    } catch (e) {
      opts.onError?.(new GomsError(`registry: undecodable registration at ${key}`, Code.DataLoss, { cause: e }));
      return undefined;
    }
  };

  const keyOf = (identity: NodeIdentity): string => {
    if (identity.name === "") throw new GomsError("node name must not be empty", Code.InvalidArgument);
    checkPart("name", identity.name);
    checkPart("set", identity.set);
    return `${prefix}${identity.set || DEFAULT_SET}/${identity.name}`;
  };

  return {
    kv,
    ttlMs,
    prefix,
    keyOf,
    async register(identity, descriptors, hooks = {}) {
      const key = keyOf(identity);
      const value = (): Uint8Array =>
        toBinary(
          NodeRegistrationSchema,
          create(NodeRegistrationSchema, {
            node: identity,
            ...(descriptors === undefined ? {} : { descriptors }),
            registeredAtUnixMs: BigInt(Date.now()),
          }),
        );
      const reg = new Registration(kv, key, value, ttlMs, hooks);
      registrations.add(reg);
      try {
        await reg.start();
      } catch (e) {
        registrations.delete(reg);
        throw e;
      }
      return reg;
    },
    async list() {
      const { entries, revision } = await kv.range(prefix);
      const nodes: NodeRegistration[] = [];
      for (const e of entries) {
        const reg = decode(e.key, e.value);
        if (reg !== undefined) nodes.push(reg);
      }
      return { nodes, revision };
    },
    watchNodes() {
      const w = watchNodes({ kv, prefix, decode, onError: opts.onError });
      watches.add(w);
      return {
        [Symbol.asyncIterator]: () => w[Symbol.asyncIterator](),
        stop() {
          watches.delete(w);
          w.stop();
        },
      };
    },
    async close() {
      for (const w of watches) w.stop();
      watches.clear();
      await Promise.all([...registrations].map((r) => r.close()));
      registrations.clear();
    },
  };
}
