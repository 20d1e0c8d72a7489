import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, GomsError } from "../errors/index.js";
import { sendError, sendJsonText } from "../internal/http/json.js";
import type { JsonCaller } from "../json-call/index.js";
import type { GomsNode } from "../rpc/index.js";
import { VERSION } from "../version.js";
import { buildOpenApi } from "./openapi.js";
import type { ResolvedOptions } from "./options.js";
import { readiness } from "./readiness.js";

const GET_ALLOW = "GET, HEAD";

export interface BuiltinDeps {
  readonly node: GomsNode;
  readonly json: JsonCaller;
  readonly o: ResolvedOptions;
  readonly draining: boolean;
  fail(e: unknown): void;
}

/** The gateway's own GET endpoints: /healthz, /readyz, /openapi.json; anything else off the RPC prefix is not found. */
export function serveBuiltin(d: BuiltinDeps, req: IncomingMessage, res: ServerResponse, path: string): void {
  const get = (): boolean => {
    if (req.method === "GET" || req.method === "HEAD") return true;
    sendError(res, new GomsError(`${req.method ?? ""} is not allowed on ${path}`, Code.InvalidArgument, { reason: "GOMS_ERR_METHOD_NOT_ALLOWED" }), 405, { allow: GET_ALLOW });
    return false;
  };
  switch (path) {
    case "/healthz":
      if (get()) sendJsonText(res, 200, '{"status":"ok"}');
      return;
    case "/readyz":
      if (get()) {
        const r = readiness(d.node, d.draining);
        sendJsonText(res, r.status === "ready" ? 200 : 503, JSON.stringify(r));
      }
      return;
    case "/openapi.json":
      if (d.o.openapi) {
        if (get()) void openapi(d, res).catch((e: unknown) => d.fail(e));
        return;
      }
      break;
  }
  sendError(res, new GomsError(`no route for ${path}`, Code.NotFound, { reason: "GOMS_ERR_NO_ROUTE" }));
}

async function openapi(d: BuiltinDeps, res: ServerResponse): Promise<void> {
  await d.json.catalog.sync(true);
  const doc = buildOpenApi(d.json.catalog.services(), d.o.prefix, `goms gateway (${d.node.name})`, VERSION);
  sendJsonText(res, 200, JSON.stringify(doc));
}
