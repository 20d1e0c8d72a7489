import type { Command } from "commander";
import { GomsError } from "../errors/index.js";
import { NodeService } from "../gen/goms/v1/node_pb.js";
import { createRegistry } from "../registry/index.js";
import { createNode, healthStatus } from "../rpc/index.js";
import { kvFromUrl } from "./target.js";

/** One registered node's answer, as `goms health` prints it. */
export interface NodeHealthRow {
  node: string;
  address: string;
  /** serving, not_serving, draining, or unreachable (no answer within the timeout, or the connection failed). */
  status: string;
  services: { service: string; status: string }[];
  /** Why the node is unreachable. */
  error?: string;
}

interface HealthCmdOptions {
  registry?: string;
  timeout: number;
  token?: string;
  json: boolean;
}

/**
 * Asks every node registered in the registry for its health
 * (goms.v1.NodeService/Health), in parallel, each pinned to its node, and
 * prints a table (or JSON). The exit code says whether the whole cluster
 * serves: 0 only when every node and every service is serving.
 */
export async function clusterHealth(registryUrl: string, o: { timeoutMs: number; token?: string }): Promise<NodeHealthRow[]> {
  const kv = await kvFromUrl(registryUrl);
  const registry = createRegistry({ kv });
  try {
    const { nodes } = await registry.list();
    const ids = nodes.flatMap((n) => (n.node ? [n.node] : []));
    // Dials every registered node; a node that accepts TCP but never says HELLO (stopped) costs one handshake timeout, in parallel.
    const client = createNode({
      identity: { name: `goms-cli-health-${process.pid}` },
      peers: { addresses: ids.map((id) => ({ host: id.host, port: id.port })) },
      limits: { connection: { handshakeTimeoutMs: o.timeoutMs } },
      ...(o.token !== undefined ? { auth: { token: o.token } } : {}),
    });
    await client.start();
    try {
      const health = client.client(NodeService).health;
      return await Promise.all(
        ids.map(async (id): Promise<NodeHealthRow> => {
          const base = { node: id.name, address: `${id.host}:${id.port}` };
          try {
            const r = await health({}, { node: id.name, timeoutMs: o.timeoutMs, retry: false });
            return { ...base, status: healthStatus(r.status), services: r.services.map((s) => ({ service: s.service, status: healthStatus(s.status) })) };
          } catch (err) {
            const e = GomsError.from(err);
            // A node that sent GOAWAY is shutting down: report it as such rather than as a failure of the network.
            const status = e.reason === "GOMS_ERR_NODE_DRAINING" ? "draining" : "unreachable";
            return { ...base, status, services: [], error: e.rawMessage };
          }
        }),
      );
    } finally {
      await client.close({ graceMs: 0 });
    }
  } finally {
    await registry.close();
    await kv.close();
  }
}

function table(rows: NodeHealthRow[]): string {
  const lines = rows.map((r) => {
    const services = r.services.map((s) => `${s.service}=${s.status}`).join(",") || "-";
    return `${r.node}\t${r.address}\t${r.status}${r.error !== undefined ? ` (${r.error})` : ""}\t${services}`;
  });
  return ["NODE\tADDRESS\tSTATUS\tSERVICES", ...lines].join("\n") + "\n";
}

export function registerHealthCommand(program: Command, intOption: (v: string) => number, fail: (err: unknown) => never): void {
  program
    .command("health")
    .description("ask every registered node for its health; exit 1 if any node or service is not serving")
    .option("--registry <url>", "watch://host:port or etcd://host:port (or GOMS_REGISTRY)")
    .option("--timeout <ms>", "how long each node has to answer", intOption, 3000)
    .option("--token <token>", "token expected by the nodes (or GOMS_TOKEN)")
    .option("--json", "print JSON", false)
    .action(async (o: HealthCmdOptions) => {
      const url = o.registry ?? process.env["GOMS_REGISTRY"];
      if (url === undefined) fail(new Error("give --registry url"));
      const token = o.token ?? process.env["GOMS_TOKEN"];
      const rows = await clusterHealth(url, { timeoutMs: o.timeout, ...(token !== undefined ? { token } : {}) }).catch(fail);
      process.stdout.write(o.json ? JSON.stringify(rows) + "\n" : table(rows));
      const healthy = rows.every((r) => r.status === "serving" && r.services.every((s) => s.status === "serving"));
      if (rows.length === 0) process.stderr.write("no node is registered\n");
      process.exitCode = healthy && rows.length > 0 ? 0 : 1;
    });
}
