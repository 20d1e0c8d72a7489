import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import { gomsError } from "../errors/index.js";
import type { NodeHealth } from "./health.js";
import { isIdempotent, type ServiceTable } from "./services.js";
import type { ServiceImpl } from "./types.js";

export interface IntrospectionSource {
  identity(): NodeIdentity;
  readonly table: ServiceTable;
  readonly startedAt: number;
  connections(): number;
  callsInFlight(): number;
  readonly health: NodeHealth;
}

/** The built-in goms.v1.NodeService every node hosts: ping, info, descriptors, health. */
export function introspection(src: IntrospectionSource): ServiceImpl<typeof NodeService> {
  return {
    ping(req) {
      return { payload: req.payload, timeUnixMs: BigInt(Date.now()) };
    },
    info() {
      return {
        node: src.identity(),
        services: [...src.table.services.values()].map(({ desc }) => ({
          name: desc.typeName,
          methods: desc.methods.map((m) => ({
            name: m.name,
            inputType: m.input.typeName,
            outputType: m.output.typeName,
            idempotent: isIdempotent(m),
          })),
        })),
        uptimeMs: BigInt(Math.round(Date.now() - src.startedAt)),
        connections: src.connections(),
        callsInFlight: src.callsInFlight(),
      };
    },
    descriptors(req) {
      // Naming a service the node does not publish is an error, not an empty answer.
      const published = src.table.publicServices();
      for (const name of req.services) {
        const found = src.table.find(name);
        if (found === undefined || !published.includes(found.typeName)) throw gomsError("GOMS_ERR_UNKNOWN_SERVICE", { service: name });
      }
      return { files: create(FileDescriptorSetSchema, { file: src.table.files(req.services).map((f) => f.proto) }) };
    },
    health(req) {
      return src.health.answer(req.service);
    },
  };
}
