import { after, afterEach } from "node:test";
import http from "node:http";
import { create } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { type GomsNode, type NodeChange, type RegistryLike } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { createDbService } from "../../examples/shared/db-service.js";
import type { NodeIdentity } from "../../src/gen/goms/v1/node_pb.js";
import { NodeRegistrationSchema, type NodeRegistration } from "../../src/gen/goms/v1/registry_pb.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import { NodeSet, withNodeOptions, type NodeOptionsPatch } from "../helpers.js";

/**
 * Hosts DB: the examples' implementation (examples/shared/db-service.ts, with
 * DB.Watch), and on Query the special keys: "slow" waits for cancellation,
 * "ret" sets ret 7, "fail" throws failed_precondition with ret 9, "md" answers
 * the request metadata as JSON.
 */
export function hostDb(n: GomsNode): void {
  // The examples' DB (DB.Watch included), with the special keys above on Query.
  const db = createDbService();
  n.service(DB, {
    ...db.impl,
    async query(req, ctx) {
      if (req.key === "slow") {
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error)));
      }
      if (req.key === "ret") ctx.ret = 7;
      if (req.key === "fail") throw new GomsError("not in this state", Code.FailedPrecondition, { ret: 9 });
      if (req.key === "md") return { value: JSON.stringify(ctx.metadata) };
      return db.impl.query!(req, ctx);
    },
  });
}

export interface Env {
  db: GomsNode;
  gwNode: GomsNode;
  gw: Gateway;
  port: number;
}

/** A DB node over real TCP, a gateway node peered with it, and the gateway on an ephemeral port. */
export async function startEnv(nodes: NodeSet, gwOpts: Partial<GatewayOptions> = {}, gwNodeOpts: NodeOptionsPatch = {}): Promise<Env> {
  const db = await nodes.start({ identity: { name: "db0" }, listen: { port: 0 } }, hostDb);
  const gwNode = await nodes.start(withNodeOptions({ identity: { name: "gate0" }, peers: { addresses: [{ host: "127.0.0.1", port: db.port }] } }, gwNodeOpts));
  const gw = createGateway({ node: gwNode, ...gwOpts });
  const port = (await gw.start()).port;
  return { db, gwNode, gw, port };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export function request(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && h["content-type"] === undefined) h["content-type"] = "application/json";
    const req = http.request({ host: "127.0.0.1", port, method, path, headers: h, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export const post = (port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<HttpResult> =>
  request(port, "POST", path, body, headers);

export function closeAgent(): void {
  agent.destroy();
}

/** An in-memory RegistryLike: registrations and a watch, as goms/registry would provide. */
export class MemoryRegistry implements RegistryLike {
  private readonly regs = new Map<string, NodeRegistration>();
  private readonly watchers = new Set<(ch: NodeChange) => void>();

  register(identity: NodeIdentity, descriptors: FileDescriptorSet): Promise<{ close(): Promise<void> }> {
    const reg = create(NodeRegistrationSchema, { node: identity, descriptors, registeredAtUnixMs: BigInt(Date.now()) });
    this.regs.set(identity.name, reg);
    for (const w of this.watchers) w({ type: "up", name: identity.name, registration: reg });
    return Promise.resolve({
      close: () => {
        this.regs.delete(identity.name);
        for (const w of this.watchers) w({ type: "down", name: identity.name });
        return Promise.resolve();
      },
    });
  }

  watchNodes(): AsyncIterable<NodeChange> & { stop(): void } {
    const queue: NodeChange[] = [...this.regs].map(([name, registration]) => ({ type: "up", name, registration }));
    let wake: (() => void) | undefined;
    let stopped = false;
    const push = (ch: NodeChange): void => {
      queue.push(ch);
      wake?.();
    };
    this.watchers.add(push);
    const watchers = this.watchers;
    return {
      stop() {
        stopped = true;
        watchers.delete(push);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          const ch = queue.shift();
          if (ch !== undefined) {
            yield ch;
            continue;
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
    };
  }
}

export { createGateway };

/**
 * For a test file: a NodeSet and an env() that starts a gateway environment,
 * with hooks that close every gateway and node after each test.
 */
export function useGatewayEnv(): {
  nodes: NodeSet;
  env: (...args: Parameters<typeof startEnv> extends [unknown, ...infer R] ? R : never) => Promise<Env>;
  /** Closes this gateway after the test too. */
  track: (gw: { close(): Promise<void> }) => void;
} {
  const nodes = new NodeSet();
  const gateways: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await nodes.closeAll();
  });
  after(() => closeAgent());
  return {
    nodes,
    track: (gw) => void gateways.push(gw),
    env: async (...args) => {
      const e = await startEnv(nodes, ...args);
      gateways.push(e.gw);
      return e;
    },
  };
}
