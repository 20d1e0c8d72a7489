import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpListen } from "../internal/http/server.js";
import { sendJsonText } from "../internal/http/json.js";
import type { GomsNode } from "../rpc/node.js";
import { HttpPort } from "./http-port.js";

export interface HealthServerOptions {
  /** The node whose health the probes read (`node.health`). */
  node: GomsNode;
  /** Where start() listens: default 127.0.0.1 and a free port. Give the port the orchestrator probes. */
  listen?: HttpListen;
}

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

/**
 * A plain-HTTP health port for an orchestrator's probes (Kubernetes,
 * Nomad, a load balancer), apart from the node's RPC port:
 *
 * - `GET /livez`: 200 while the process answers at all (a liveness probe
 *   restarts a process that stopped answering, not one that is busy or draining);
 * - `GET /readyz`: 200 while the node is serving, 503 while it starts, drains
 *   (close() began) or has a service marked not serving; the body is the
 *   node's health report as JSON. `?service=<name>` asks about one hosted
 *   service (404 when the node does not host it).
 *
 * Reads the node's state on each request: nothing is cached, nothing runs
 * between probes. Its lifecycle is its own: close it after node.close(), so
 * that probes see "draining" for the whole shutdown.
 */
export class HealthServer extends HttpPort {
  private readonly node: GomsNode;

  constructor(opts: HealthServerOptions) {
    super((req, res) => this.handle(req, res), opts.listen);
    this.node = opts.node;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://probe");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...TEXT, allow: "GET, HEAD" }).end("method not allowed\n");
      return;
    }
    switch (url.pathname) {
      case "/livez":
        res.writeHead(200, TEXT).end("ok\n");
        return;
      case "/readyz": {
        const service = url.searchParams.get("service");
        if (service !== null) {
          const status = this.node.health.status(service);
          if (status === undefined) sendJsonText(res, 404, JSON.stringify({ service, status: "not_found" }));
          else sendJsonText(res, status === "serving" ? 200 : 503, JSON.stringify({ service, status }));
          return;
        }
        const report = this.node.health.report();
        sendJsonText(res, report.status === "serving" ? 200 : 503, JSON.stringify({ node: this.node.name, ...report }));
        return;
      }
    }
    res.writeHead(404, TEXT).end("not found\n");
  }
}

/** Creates a /livez and /readyz server for `node`; call start(). */
export function createHealthServer(opts: HealthServerOptions): HealthServer {
  return new HealthServer(opts);
}
