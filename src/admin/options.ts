import type { IncomingMessage, ServerResponse } from "node:http";
import type { MonitorStoreView } from "../monitor/store-types.js";
import type { KvBackend, Registry } from "../registry/index.js";
import type { HttpListen } from "../internal/http/server.js";
import type { GomsNode } from "../rpc/index.js";
import type { SupervisorConfig } from "./supervisor.js";

export interface AdminOptions {
  /** The admin's own goms node (calls methods, sees the registry through discovered()). */
  node: GomsNode;
  /** Monitor data (createMonitorStore() from goms/monitor, or any MonitorStoreView). */
  store: MonitorStoreView;
  /** For the registry browser. */
  registry?: Registry | KvBackend;
  /** supervisord instances to control; url like http://user:pass@127.0.0.1:9001. */
  supervisors?: readonly SupervisorConfig[];
  /** users.json, secret and audit.jsonl live here. */
  dataDir: string;
  /** Where start() listens: default 127.0.0.1, port 8092 (0 picks a free one). */
  listen?: HttpListen;
  /** Created as an admin on first start when no users exist. */
  bootstrapUser?: { name: string; password: string };
  /** Serves GET /metrics (e.g. Prometheus from goms/monitor); 404 without it. */
  metricsHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Built UI directory (default: dist/admin-ui next to the package). */
  uiDir?: string;
  /** Mark cookies Secure (set when served behind TLS). Default false. */
  secureCookies?: boolean;
  /**
   * Proxies (IPs or CIDRs) whose X-Forwarded-For is believed for the client IP,
   * read right to left up to the first untrusted hop (default: none).
   */
  trustProxy?: string | readonly string[];
  /** supervisord poll interval, ms (default 1000). */
  pollMs?: number;
  /** Method call deadline, ms (default 10000). */
  callTimeoutMs?: number;
}
