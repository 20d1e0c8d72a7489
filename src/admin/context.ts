import type { IncomingMessage, ServerResponse } from "node:http";
import type { IpSet } from "../internal/http/client-ip.js";
import type { AuditLog } from "./audit.js";
import type { MethodCatalog } from "./methods.js";
import type { AdminOptions } from "./options.js";
import type { ProcessControl } from "./processes.js";
import type { Session, Sessions } from "./sessions.js";
import type { LiveStreams } from "./sse.js";
import type { LoginThrottle } from "./throttle.js";
import type { Role, UserStore } from "./users.js";

/** Everything the route handlers share. */
export interface AdminState {
  opts: AdminOptions;
  /** The proxies whose X-Forwarded-For is believed (opts.trustProxy). */
  trusted: IpSet;
  users: UserStore;
  sessions: Sessions;
  throttle: LoginThrottle;
  audit: AuditLog;
  processes: ProcessControl;
  methods: MethodCatalog;
  /** Open event streams, each tied to its session. */
  streams: LiveStreams;
  /** One-time setup token while no user exists (undefined afterwards). */
  setupToken: string | undefined;
}

/** One request. `user`/`role` are set for authenticated routes. */
export interface Req {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request path, still percent-encoded (decode parameters with decodeSegment). */
  path: string;
  query: URLSearchParams;
  ip: string;
  /** The client used https: a trusted proxy said so (X-Forwarded-Proto). */
  https: boolean;
  params: string[];
  session: Session | undefined;
  user: string;
  role: Role | undefined;
}

/** "public": no session needed (login, setup). Otherwise the least role allowed. */
export type Access = "public" | Role;

export interface Route {
  method: "GET" | "POST";
  path: RegExp;
  access: Access;
  handle(r: Req, s: AdminState): Promise<void> | void;
}
