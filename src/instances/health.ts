import { gomsError } from "../errors/index.js";
import { createHealthServer, type HealthServer } from "../monitor/health-server.js";
import type { GomsNode } from "../rpc/node.js";
import { INSTANCE_ENV, envInt } from "./env.js";

/**
 * Serves `node`'s /livez and /readyz (createHealthServer) on the health port
 * the environment names: GOMS_HEALTH_PORT, set by `goms run --health-port P`
 * (P + the instance index) or by hand for a program started any other way
 * (a container spec, supervisord's `environment=`). GOMS_HEALTH_HOST is the
 * address (default 127.0.0.1). Resolves undefined when no port is set, so a
 * program can call it unconditionally.
 *
 * Close the server after node.close(), so that probes see "draining" (503)
 * for the whole drain.
 */
export async function startHealthPort(node: GomsNode, env: Readonly<Record<string, string | undefined>> = process.env): Promise<HealthServer | undefined> {
  const raw = env[INSTANCE_ENV.healthPort];
  if (raw === undefined || raw.trim() === "") return undefined;
  const port = envInt(raw);
  // A set but malformed port is a deployment mistake an orchestrator would only see as failing probes: say so.
  if (port === undefined || port > 65535) throw gomsError("GOMS_ERR_INVALID_OPTION", { option: INSTANCE_ENV.healthPort, problem: `expected a port number, got ${JSON.stringify(raw)}` });
  const host = env[INSTANCE_ENV.healthHost];
  return createHealthServer({ node, listen: { port, host: host === undefined || host === "" ? "127.0.0.1" : host } }).start();
}
