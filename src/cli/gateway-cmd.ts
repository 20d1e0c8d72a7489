import type { ServerResponse } from "node:http";
import { Command, InvalidArgumentError } from "commander";
import { createGateway, type BucketOptions, type GatewayOptions, type RateLimitOptions } from "../gateway/index.js";
import { Code, GomsError, codeToString } from "../errors/index.js";
import { createNode, type PeerAddress, type RegistryLike } from "../rpc/index.js";
import { createRegistry } from "../registry/index.js";
import { kvFromUrl } from "./target.js";
import cluster from "node:cluster";
import { runGatewayPrimary, workerIndex, workerTokens } from "./gateway-workers.js";

async function openRegistry(url: string): Promise<RegistryLike> {
  return createRegistry({ kv: await kvFromUrl(url) });
}

function intOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function parsePeer(s: string): PeerAddress {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError(`expected host:port, got ${s}`);
  return { host, port };
}

interface GatewayCliOptions {
  port: number;
  host: string;
  name: string;
  peer: string[];
  registry?: string;
  token?: string;
  corsOrigin: string[];
  trustedProxy: string[];
  forwardHeader: string[];
  maxBody: number;
  timeout: number;
  maxTimeout: number;
  workers: number;
  ratePerIp?: BucketOptions;
  ratePerRoute?: BucketOptions;
  rateMaxKeys?: number;
  maxInflightPerRoute?: number;
}

/** "100" or "100:200": tokens per second, and the burst (default: the rate). */
function bucketOption(v: string): BucketOptions {
  const [rate, burst, extra] = v.split(":").map(Number);
  if (extra !== undefined || rate === undefined || !(rate > 0) || (burst !== undefined && !(burst >= 1))) throw new InvalidArgumentError("expected perSecond or perSecond:burst");
  return burst === undefined ? { ratePerSec: rate } : { ratePerSec: rate, burst };
}

function rateLimitOf(o: GatewayCliOptions): RateLimitOptions | undefined {
  if (o.ratePerIp === undefined && o.ratePerRoute === undefined) return undefined;
  return {
    ...(o.ratePerIp !== undefined ? { perIp: o.ratePerIp } : {}),
    ...(o.ratePerRoute !== undefined ? { perRoute: o.ratePerRoute } : {}),
    ...(o.rateMaxKeys !== undefined ? { maxKeys: o.rateMaxKeys } : {}),
  };
}

/** `goms gateway`: the HTTP/JSON gateway (docs/gateway.md). */
export function registerGatewayCommand(program: Command): Command {
  return program
    .command("gateway")
    .description("serve POST /api/{Service}/{Method} as JSON over HTTP, calling goms nodes (see docs/gateway.md)")
    .option("--port <port>", "HTTP port", intOption, 8091)
    .option("--host <host>", "HTTP address to bind", "127.0.0.1")
    .option("--name <name>", "name of the gateway's goms node", "gate0")
    .option("--peer <host:port>", "a goms node to call (repeatable)", collect, [])
    .option("--registry <url>", "discover nodes from a registry (embedded:, watch://host:port, etcd://host:port)")
    .option("--token <token>", "token sent to the nodes (or GOMS_TOKEN)")
    .option("--cors-origin <origin>", "allow this browser origin (repeatable; default: none)", collect, [])
    .option("--trusted-proxy <ip|cidr>", "believe X-Forwarded-For from this proxy (repeatable)", collect, [])
    .option("--forward-header <name>", "copy this request header into call metadata (repeatable)", collect, [])
    .option("--max-body <bytes>", "largest request body", intOption, 1024 * 1024)
    .option("--timeout <ms>", "default call deadline", intOption, 10_000)
    .option("--max-timeout <ms>", "upper bound for x-goms-timeout-ms", intOption, 60_000)
    // --workers and the rate limits: one port served by N processes, limits shared by all of them (gateway-workers.ts).
    .option("--workers <n>", "serve the port from N worker processes (node:cluster), each a gate node named <name>-<i>", intOption, 1)
    .option("--rate-per-ip <rate[:burst]>", "requests per second per client IP, shared by all workers", bucketOption)
    .option("--rate-per-route <rate[:burst]>", "requests per second per route, shared by all workers", bucketOption)
    .option("--rate-max-keys <n>", "clients (or routes) a rate limit tracks at once; when all are still refilling, new ones get 429 (default 10000)", intOption)
    .option("--max-inflight-per-route <n>", "answer 503 + Retry-After at once past N requests in flight per route (per worker)", intOption)
    .action(async (o: GatewayCliOptions) => {
      try {
        if (o.workers > 1 && cluster.isPrimary) await runGatewayPrimary({ workers: o.workers, rateLimit: rateLimitOf(o), graceMs: 10_000 }, (line) => process.stdout.write(line + "\n"));
        else await runGateway(o);
      } catch (err) {
        const e = GomsError.from(err);
        process.stderr.write(`error: ${codeToString(e.code)}: ${e.rawMessage}\n`);
        process.exit(1);
      }
    });
}

async function runGateway(o: GatewayCliOptions): Promise<void> {
  const peers = o.peer.map(parsePeer);
  const registry = o.registry !== undefined ? await openRegistry(o.registry) : undefined;
  if (peers.length === 0 && registry === undefined) throw new GomsError("give at least one --peer host:port or a --registry URL", Code.InvalidArgument);
  const token = o.token ?? process.env["GOMS_TOKEN"];
  const worker = cluster.isWorker;
  const name = worker ? `${o.name}-${workerIndex()}` : o.name;
  const rateLimit = rateLimitOf(o);
  const node = createNode({
    identity: { name },
    peers: { addresses: peers },
    ...(registry !== undefined ? { discovery: { registry, connectAll: true } } : {}),
    ...(token !== undefined ? { auth: { peerToken: token } } : {}),
  });
  await node.start();
  const opts: GatewayOptions = {
    node,
    maxBodyBytes: o.maxBody,
    defaultTimeoutMs: o.timeout,
    maxTimeoutMs: o.maxTimeout,
    forwardHeaders: o.forwardHeader,
    trustedProxies: o.trustedProxy,
    listen: { port: o.port, host: o.host },
    ...(o.corsOrigin.length > 0 ? { cors: { origins: o.corsOrigin } } : {}),
    ...(o.maxInflightPerRoute !== undefined ? { shed: { maxInflightPerRoute: o.maxInflightPerRoute } } : {}),
    ...(rateLimit !== undefined ? { rateLimit: worker ? { ...rateLimit, tokens: workerTokens() } : rateLimit } : {}),
  };
  const gw = createGateway(opts);
  const port = (await gw.start()).port;
  // Which worker answered (tests and benches check that every worker serves).
  if (worker) gw.server?.prependListener("request", (_req, res: ServerResponse) => res.setHeader("x-goms-worker", `${name} ${process.pid}`));
  process.stdout.write(`gateway ${name} on http://${o.host}:${port} (POST /api/{Service}/{Method}, GET /healthz /readyz /openapi.json)\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("draining...\n");
    void gw
      .close()
      .then(() => node.close())
      .then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
