/** The RPC targets: where their processes live and what they need. */
import { fileURLToPath } from "node:url";

export interface TargetDef {
  name: string;
  description: string;
  /** Number of TCP ports the parent allocates (ports[0] is the server's). */
  ports: number;
  /** Whether --cpu-prof applies to this target's processes. */
  profile: boolean;
  /** Directory under bench/targets holding server.ts/client.ts, when it is not `name`. */
  dir?: string;
  /** Extra environment for both processes. */
  env?: Record<string, string>;
  /** Module of a role under bench/targets, without `.ts`, when it is not `<dir>/<role>` (the stream suite's clients). */
  modules?: { server?: string; client?: string };
}

export const TARGETS: readonly TargetDef[] = [
  { name: "raw", description: "node:net, 4-byte length prefix, opaque echo, batched writes", ports: 1, profile: false },
  { name: "raw-codec", description: "raw's socket and batching, plus goms's codec on both sides (the floor of protobuf RPC)", ports: 1, profile: true },
  { name: "grpc", description: "@grpc/grpc-js unary Echo, proto-loader", ports: 1, profile: false },
  { name: "moleculer", description: "Moleculer 0.14, TCP transporter, static urls, JSON", ports: 2, profile: false },
  { name: "nest", description: "NestJS 12 TCP microservice, @MessagePattern('echo')", ports: 1, profile: false },
  { name: "goms", description: "goms RPC (src/rpc)", ports: 1, profile: true },
];

/** The file a target's server or client process runs: `modules[role]`, else `<dir ?? name>/<role>.ts` under bench/targets. */
export function targetModule(def: TargetDef, role: "server" | "client"): string {
  const rel = def.modules?.[role] ?? `${def.dir ?? def.name}/${role}`;
  return fileURLToPath(new URL(`../targets/${rel}.ts`, import.meta.url));
}
