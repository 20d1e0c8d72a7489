import type { IncomingMessage, ServerResponse } from "node:http";
import type { MonitorStoreView } from "../monitor/store-types.js";
import type { KvBackend, Registry } from "../registry/index.js";
import type { HttpListen, HttpTimeouts } from "../internal/http/server.js";
import type { GomsNode } from "../rpc/index.js";
import type { AdminSseLimits } from "./sse.js";
import type { SupervisorConfig } from "./supervisor.js";
import type { ThrottleLimits } from "./throttle.js";

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
  /** supervisord poll interval, ms (default 1000). */
  pollMs?: number;
  /** Method call deadline, ms (default 10000). */
  callTimeoutMs?: number;

  // ---- TLS proxy, sessions and limits (docs/admin.md "Behind a TLS proxy" and "Limits") ----
  /**
   * The session cookie's Secure attribute. true: always; false: never;
   * "auto" (default): when a trusted proxy says the client used https
   * (X-Forwarded-Proto from a `trustProxy` address).
   */
  secureCookies?: boolean | "auto";
  /**
   * Proxies (IPs or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are
   * believed; X-Forwarded-For is read right to left up to the first untrusted
   * hop (default: none, the headers are ignored).
   */
  trustProxy?: string | readonly string[];
  /** Session lifetime, ms (default 12 h). Open event streams end when their session does. */
  sessionTtlMs?: number;
  /** Login throttle per (user, IP) and per IP. */
  loginThrottle?: ThrottleLimits;
  /** Event streams (/api/events, /api/registry/watch): bytes held per slow client, heartbeat, how many. */
  sse?: AdminSseLimits;
  /** node:http timeouts: headers 10000, whole request 60000, keep-alive 5000 (ms). */
  http?: Partial<HttpTimeouts>;
}
