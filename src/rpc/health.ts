import { gomsError } from "../errors/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ServingStatus, type HealthResponseSchema } from "../gen/goms/v1/node_pb.js";
import { isInternalService, type ServiceTable } from "./services.js";

/** A node's or a service's health, as `goms.v1.NodeService/Health` and the HTTP probes report it. */
export type HealthStatus = "serving" | "not_serving" | "draining";

/** The node's lifecycle, as GomsNode tracks it. */
export type NodeLifecycle = "new" | "starting" | "running" | "closing" | "closed";

export interface HealthReport {
  /** The node as a whole. */
  status: HealthStatus;
  /** Every hosted service outside goms.v1 (the built-ins every node has), by fully-qualified name. */
  services: { service: string; status: HealthStatus }[];
}

const WIRE: Record<HealthStatus, ServingStatus> = {
  serving: ServingStatus.SERVING,
  not_serving: ServingStatus.NOT_SERVING,
  draining: ServingStatus.DRAINING,
};

/** The wire enum of a status. */
export function servingStatus(s: HealthStatus): ServingStatus {
  return WIRE[s];
}

/** The status of a wire enum value; an unknown or unset value reads as not serving (a probe must not pass on what it cannot read). */
export function healthStatus(s: ServingStatus): HealthStatus {
  return s === ServingStatus.SERVING ? "serving" : s === ServingStatus.DRAINING ? "draining" : "not_serving";
}

/**
 * A node's health, derived from its lifecycle (serving only while running,
 * draining once close() began) plus the services its application marked not
 * serving (a service whose database is unreachable, say). One per node,
 * `node.health`; read by the Health method and by plain-HTTP probes.
 */
export class NodeHealth {
  /** Hosted services marked not serving; bounded by the services the node hosts. */
  private readonly down = new Set<string>();

  constructor(
    private readonly lifecycle: () => NodeLifecycle,
    private readonly table: ServiceTable,
  ) {}

  /**
   * Marks a hosted service (full or short name) serving or not. A service
   * marked not serving makes the node as a whole not serving too: an
   * orchestrator's readiness probe should take the node out until it recovers.
   */
  setServing(service: string, serving: boolean): void {
    const desc = this.table.find(service);
    if (desc === undefined) throw gomsError("GOMS_ERR_UNKNOWN_SERVICE", { service });
    if (serving) this.down.delete(desc.typeName);
    else this.down.add(desc.typeName);
  }

  /** The node's status (`service` empty), or a hosted service's; undefined for a service the node does not host. */
  status(service = ""): HealthStatus | undefined {
    const s = this.lifecycle();
    const base: HealthStatus = s === "running" ? "serving" : s === "closing" ? "draining" : "not_serving";
    if (service === "") return base === "serving" && this.down.size > 0 ? "not_serving" : base;
    const desc = this.table.find(service);
    if (desc === undefined) return undefined;
    return base === "serving" && this.down.has(desc.typeName) ? "not_serving" : base;
  }

  /** The node and each of its application's services. */
  report(): HealthReport {
    const services: HealthReport["services"] = [];
    for (const name of this.table.services.keys()) if (!isInternalService(name)) services.push({ service: name, status: this.status(name)! });
    return { status: this.status()!, services };
  }

  /** The Health method's answer; a named service the node does not host is not_found, as in Descriptors. */
  answer(service: string): MessageInitShape<typeof HealthResponseSchema> {
    if (service === "") {
      const r = this.report();
      return { status: WIRE[r.status], services: r.services.map((s) => ({ service: s.service, status: WIRE[s.status] })) };
    }
    const status = this.status(service);
    if (status === undefined) throw gomsError("GOMS_ERR_UNKNOWN_SERVICE", { service });
    return { status: WIRE[status], services: [{ service: this.table.find(service)!.typeName, status: WIRE[status] }] };
  }
}
