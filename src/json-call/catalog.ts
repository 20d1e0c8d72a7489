import { create, createFileRegistry, type DescFile, type DescMethod, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, GomsError } from "../errors/index.js";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import { isInternalService, type GomsNode } from "../rpc/index.js";

/** A service the gateway can route to, with the registry its descriptors came from. */
export interface ServiceEntry {
  readonly service: DescService;
  readonly registry: Registry;
  /** Where the descriptors came from: "local", "registry:<node>" or "peer:<node>". */
  readonly source: string;
}


interface Source {
  /** The object the entries were built from (registration or peer identity); a new one means rebuild. */
  key: object;
  entries: ServiceEntry[];
}

/**
 * The services the gateway knows, from the descriptors the nodes publish:
 * registrations seen through the registry (node.discovered()), descriptors
 * fetched once per statically connected peer (goms.v1.NodeService/Descriptors,
 * pinned to that peer), and services the gateway node hosts itself.
 */
export class DescriptorCatalog {
  private byName = new Map<string, ServiceEntry>();
  private readonly sources = new Map<string, Source>();
  private readonly fetching = new Map<string, Promise<void>>();
  /** Peer name -> time before which a failed fetch is not retried. */
  private readonly failedUntil = new Map<string, number>();
  private lastSync = 0;
  private dirty = true;

  constructor(
    private readonly node: GomsNode,
    private readonly fetchTimeoutMs: number,
  ) {}

  /** Every routable service, by fully-qualified name. */
  services(): ReadonlyMap<string, ServiceEntry> {
    if (this.dirty) this.rebuild();
    return this.byName;
  }

  /**
   * Brings the catalog up to date with the registry and the connected peers.
   * Cheap when nothing changed; fetches descriptors only from peers that are new
   * or said a new HELLO. With `wait`, awaits those fetches.
   */
  async sync(wait: boolean): Promise<void> {
    this.lastSync = Date.now();
    const seen = new Set<string>();
    // 1. Registrations known through the registry carry their descriptors.
    for (const [name, reg] of this.node.discovered()) {
      const id = `registry:${name}`;
      seen.add(id);
      const prev = this.sources.get(id);
      if (prev?.key === reg) continue;
      this.setSource(id, reg, reg.descriptors);
    }
    // 2. Services hosted by the gateway node itself.
    const local = this.node.hostedServices().filter((s) => !s.internal);
    if (local.length > 0) {
      seen.add("local");
      if (!this.sources.has("local")) {
        const files = new Map<string, DescFile>();
        const visit = (f: DescFile): void => {
          if (files.has(f.proto.name)) return;
          for (const dep of f.dependencies) visit(dep);
          files.set(f.proto.name, f);
        };
        for (const s of local) visit(s.desc.file);
        this.setSource("local", this.node, create(FileDescriptorSetSchema, { file: [...files.values()].map((f) => f.proto) }));
      }
    }
    // 3. Connected peers that are not known through the registry: ask them once per HELLO.
    const pending: Promise<void>[] = [];
    const now = Date.now();
    for (const peer of this.node.peerList()) {
      const identity = peer.identity;
      if (peer.state !== "ready" || identity === undefined) continue;
      if (this.node.discovered().has(identity.name)) continue;
      const id = `peer:${identity.name}`;
      seen.add(id);
      if (this.sources.get(id)?.key === identity) continue;
      if (identity.services.every((s) => isInternalService(s))) {
        this.setSource(id, identity, undefined);
        continue;
      }
      if ((this.failedUntil.get(id) ?? 0) > now) continue;
      let p = this.fetching.get(id);
      if (p === undefined) {
        p = this.fetch(identity.name, id, identity).finally(() => this.fetching.delete(id));
        this.fetching.set(id, p);
      }
      pending.push(p);
    }
    // Registry nodes that went away take their services with them; static peers keep
    // theirs while down, so that calls answer unavailable rather than not_found.
    for (const id of [...this.sources.keys()]) {
      if (id.startsWith("registry:") && !seen.has(id)) {
        this.sources.delete(id);
        this.dirty = true;
      }
    }
    if (wait && pending.length > 0) await Promise.all(pending);
  }

  /** sync(false) at most every `intervalMs` (the hot path calls this). */
  maybeSync(intervalMs: number): void {
    if (Date.now() - this.lastSync >= intervalMs) void this.sync(false);
  }

  private async fetch(peerName: string, id: string, key: object): Promise<void> {
    try {
      const d = await this.node.client(NodeService).descriptors({ services: [] }, { node: peerName, timeoutMs: this.fetchTimeoutMs });
      this.failedUntil.delete(id);
      this.setSource(id, key, d.files);
    } catch {
      // Try again on a later sync (the peer may be restarting); answer from what we have meanwhile.
      this.failedUntil.set(id, Date.now() + 1000);
    }
  }

  private setSource(id: string, key: object, files: FileDescriptorSet | undefined): void {
    const entries: ServiceEntry[] = [];
    if (files !== undefined && files.file.length > 0) {
      let registry: Registry;
      try {
        registry = createFileRegistry(files);
      } catch {
        // Unusable descriptors (missing dependencies): publish nothing for this source.
        this.sources.set(id, { key, entries });
        this.dirty = true;
        return;
      }
      for (const d of registry) {
        if (d.kind === "service" && !isInternalService(d.typeName)) entries.push({ service: d, registry, source: id });
      }
    }
    this.sources.set(id, { key, entries });
    this.dirty = true;
  }

  private rebuild(): void {
    const m = new Map<string, ServiceEntry>();
    // Registry and peer descriptors first, local last: the last writer wins.
    for (const [id, s] of this.sources) if (id !== "local") for (const e of s.entries) m.set(e.service.typeName, e);
    for (const e of this.sources.get("local")?.entries ?? []) m.set(e.service.typeName, e);
    this.byName = m;
    this.dirty = false;
  }
}

function upperFirst(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** A resolved route. */
export interface Route {
  readonly entry: ServiceEntry;
  readonly method: DescMethod;
  /** Wire path, "pkg.Service/Method". */
  readonly path: string;
}

/**
 * Finds `service`/`method` in the catalog. The service may be fully-qualified or
 * a short name; the first letter of each part may be lower case (people type
 * `/api/db/query` too). Streaming methods are found too (route.method.methodKind
 * tells). Returns undefined when not found; throws invalid_argument when a
 * short name is ambiguous.
 */
export function findRoute(services: ReadonlyMap<string, ServiceEntry>, service: string, method: string): Route | undefined {
  let entry = services.get(service) ?? services.get(upperFirst(service));
  if (entry === undefined) {
    const want = upperFirst(service);
    const matches: ServiceEntry[] = [];
    for (const e of services.values()) if (e.service.name === service || e.service.name === want) matches.push(e);
    if (matches.length > 1) {
      throw new GomsError(`service name ${service} is ambiguous: ${matches.map((m) => m.service.typeName).join(", ")}`, Code.InvalidArgument, { reason: "GOMS_ERR_AMBIGUOUS_SERVICE" });
    }
    entry = matches[0];
  }
  if (entry === undefined) return undefined;
  const up = upperFirst(method);
  const m = entry.service.methods.find((x) => x.name === method || x.name === up || x.localName === method);
  if (m === undefined) return undefined;
  return { entry, method: m, path: `${entry.service.typeName}/${m.name}` };
}

/** The fully-qualified name of `service` (any accepted spelling) when it is known, whatever the method. */
export function hasService(services: ReadonlyMap<string, ServiceEntry>, service: string): string | undefined {
  const exact = services.get(service) ?? services.get(upperFirst(service));
  if (exact !== undefined) return exact.service.typeName;
  const want = upperFirst(service);
  for (const e of services.values()) if (e.service.name === service || e.service.name === want) return e.service.typeName;
  return undefined;
}
