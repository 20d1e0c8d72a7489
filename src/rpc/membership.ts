import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import { Discovery, type DiscoveryHost, type RegistrationHandle, type RegistryLike } from "./discovery.js";
import type { ServiceTable } from "./services.js";

export interface MembershipOptions {
  readonly registry: RegistryLike;
  /** Dial every registered node, not only those hosting services this node calls. */
  readonly connectAll: boolean;
  /**
   * How long start() waits for the registry's first list of nodes. Calls made
   * before it arrived wait for it anyway (within their deadline); this bound
   * only keeps start() from hanging on an unreachable registry.
   */
  readonly syncTimeoutMs: number;
}

/**
 * The membership part of a node: its registration (under a lease, with the
 * descriptors of the services it hosts publicly) and the discovery of the
 * other nodes, which dials the ones this node needs.
 */
export class Membership {
  readonly discovery: Discovery;
  private registration: RegistrationHandle | undefined;

  constructor(
    private readonly o: MembershipOptions,
    host: DiscoveryHost,
  ) {
    this.discovery = new Discovery(host, o.registry, o.connectAll);
  }

  /** Registers (when the node listens), then follows the registry until the first list arrived or the sync bound passed. */
  async start(identity: NodeIdentity | undefined, table: ServiceTable): Promise<void> {
    if (identity !== undefined) {
      const files = create(FileDescriptorSetSchema, { file: table.files([]).map((f) => f.proto) });
      this.registration = await this.o.registry.register(identity, files);
    }
    this.discovery.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.discovery.synced, new Promise<void>((r) => (timer = setTimeout(r, this.o.syncTimeoutMs)))]);
    clearTimeout(timer);
  }

  /** Registrations of the other nodes, by name. */
  get known(): ReadonlyMap<string, NodeRegistration> {
    return this.discovery.known;
  }

  /** Deregisters, then stops following the registry. */
  async close(): Promise<void> {
    await this.registration?.close().catch(() => undefined);
    await this.discovery.stop();
  }

  /** Crash simulation: the registration is left to expire with its lease. */
  abandon(): void {
    this.registration?.abandon?.();
    this.discovery.stopSoon();
  }
}
