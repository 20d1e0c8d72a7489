import { randomBytes } from "node:crypto";
import { Command, InvalidArgumentError } from "commander";
import type { SupervisorConfig } from "../admin/supervisor.js";

function intOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

/** `--supervisor [name=]http://user:pass@host:9001` (repeatable); the name defaults to the URL's host. */
export function parseSupervisor(v: string, prev: SupervisorConfig[]): SupervisorConfig[] {
  const eq = v.indexOf("=");
  const named = eq > 0 && !v.slice(0, eq).includes("://");
  const url = named ? v.slice(eq + 1) : v;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`expected [name=]http://user:pass@host:port, got ${v}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidArgumentError("supervisor URL must be http(s)");
  const name = named ? v.slice(0, eq) : u.hostname === "127.0.0.1" || u.hostname === "localhost" ? (prev.length === 0 ? "local" : `local${prev.length}`) : u.hostname;
  return [...prev, { name, url }];
}

/** `--trust-proxy 10.0.0.1,10.1.0.0/16` (repeatable): the list grows. */
function listOption(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(",").map((x) => x.trim()).filter((x) => x !== "")];
}

interface AdminCliOptions {
  port: number;
  host: string;
  name: string;
  nodePort: number;
  registry?: string;
  supervisor: SupervisorConfig[];
  dataDir: string;
  adminUser: string;
  secureCookies: boolean;
  trustProxy: string[];
  token?: string;
  monitorMaxNodes?: number;
  monitorMaxMethods?: number;
  monitorMaxStatsBytes?: number;
}

function fail(msg: string): never {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(1);
}


/** `goms admin`: the admin console (docs/admin.md). */
export function registerAdminCommand(program: Command): Command {
  return program
    .command("admin")
    .description("serve the admin console: cluster, nodes, services, registry, method calls, supervisord process control (see docs/admin.md)")
    .option("--port <port>", "HTTP port", intOption, 8092)
    .option("--host <host>", "HTTP address to bind", "127.0.0.1")
    .option("--name <name>", "name of the admin's goms node (hosts goms.v1.MonitorService)", "admin")
    .option("--node-port <port>", "goms RPC port of the admin node (nodes push stats here)", intOption, 10100)
    .option("--registry <url>", "registry: watch://host:port, etcd://host:port (or GOMS_REGISTRY)")
    .option("--supervisor <[name=]url>", "a supervisord XML-RPC URL http://user:pass@host:9001 (repeatable)", parseSupervisor, [])
    .option("--data-dir <dir>", "users, session secret and audit log", "./goms-admin-data")
    .option("--admin-user <name>", "first user's name, created with GOMS_ADMIN_PASSWORD", "admin")
    .option("--secure-cookies", "always mark the session cookie Secure (default: only when a trusted proxy says https)", false)
    .option("--trust-proxy <ips>", "proxy IPs/CIDRs whose X-Forwarded-For/-Proto are believed (repeatable, comma-separated)", listOption, [])
    .option("--token <token>", "token nodes must send to push stats to the admin node (or GOMS_TOKEN; default: a random one, printed)")
    .option("--monitor-max-nodes <n>", "most nodes the monitor store tracks (default 500)", intOption)
    .option("--monitor-max-methods <n>", "most methods in one node's stats push (default 500)", intOption)
    .option("--monitor-max-stats-bytes <bytes>", "largest stats push (default 131072)", intOption)
    .action(async (o: AdminCliOptions) => {
      const { createAdmin } = await import("../admin/index.js");
      const { createNode } = await import("../rpc/index.js");
      const { createRegistry } = await import("../registry/index.js");
      const { kvFromUrl } = await import("./target.js");
      const { createMonitorStore, createMetrics, createCollector, metricsHandler, MonitorService } = await import("../monitor/index.js");
      const url = o.registry ?? process.env["GOMS_REGISTRY"];
      const kv = url ? await kvFromUrl(url).catch((e: unknown) => fail(`--registry ${url}: ${(e as Error).message}`)) : undefined;
      // Pushes are authenticated: only nodes that send this token in their HELLO reach the admin node.
      const given = o.token ?? process.env["GOMS_TOKEN"];
      const token = given || randomBytes(18).toString("base64url");
      const node = createNode({ identity: { name: o.name }, listen: { host: o.host, port: o.nodePort }, auth: { token }, ...(kv ? { discovery: { registry: createRegistry({ kv }) } } : {}) });
      // The admin node hosts goms.v1.MonitorService: every node's pusher finds it through the registry.
      const limits = { maxNodes: o.monitorMaxNodes, maxMethodsPerNode: o.monitorMaxMethods, maxStatsBytes: o.monitorMaxStatsBytes };
      const store = createMonitorStore({
        limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
        ...(kv ? { registered: (name: string) => node.discovered().get(name)?.node } : {}),
      });
      node.service(MonitorService, store.service());
      await node.start();
      const metrics = createMetrics({ node, collector: createCollector({ node }) });
      const password = process.env["GOMS_ADMIN_PASSWORD"];
      // Bad options throw from createAdmin, listen errors reject from start(): both end here.
      const admin = await Promise.resolve()
        .then(() =>
          createAdmin({
            node,
            store,
            ...(kv ? { registry: kv } : {}),
            supervisors: o.supervisor,
            metricsHandler: metricsHandler(metrics),
            dataDir: o.dataDir,
            listen: { port: o.port, host: o.host },
            trustProxy: o.trustProxy,
            ...(o.secureCookies ? { secureCookies: true } : {}),
            ...(password ? { bootstrapUser: { name: o.adminUser, password } } : {}),
          }).start(),
        )
        .catch((e: unknown) => fail((e as Error).message));
      process.stdout.write(`goms admin on ${admin.url} (node ${o.name} on ${o.host}:${node.port}${url ? `, registry ${url}` : ""})\n`);
      for (const s of o.supervisor) process.stdout.write(`  supervisord ${s.name}: ${new URL(s.url).host}\n`);
      if (!given) process.stdout.write(`  push token (no --token or GOMS_TOKEN given, random for this run): ${token}\n  nodes push stats with createNode({ auth: { peerToken } }) set to it\n`);
      if (admin.setupToken) {
        process.stdout.write(`\nNo users yet. Open ${admin.url}/#/setup and use this one-time setup token:\n\n    ${admin.setupToken}\n\n(or restart with GOMS_ADMIN_PASSWORD set to create user "${o.adminUser}")\n`);
      }
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.once(sig, () => {
          void admin
            .close()
            .then(() => store.close())
            .then(() => node.close({ graceMs: 2000 }))
            .then(() => kv?.close())
            .then(() => process.exit(0));
        });
      }
    });
}
