import type { ConnOptions } from "../internal/conn/options.js";
import type { TimingPolicy } from "./timing-sampler.js";
import type { TlsClientOptions, TlsServerOptions } from "../internal/transport/tcp.js";
import type { Transport } from "../internal/transport/types.js";
import type { BackoffOptions } from "../internal/util/backoff.js";
import type { RegistryLike } from "./discovery.js";
import type { PeerAddress } from "./peer.js";
import type { RetryBudgetOptions } from "./retry-budget.js";
import type { Balancer } from "./peer-table.js";
import type { Interceptor, ServerInterceptor } from "./types.js";

export interface NodeOptions {
  /** Node name, unique in the cluster (e.g. "db0"). */
  name: string;
  id?: number;
  type?: string;
  region?: number;
  set?: string;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Without a port the node only makes calls. */
  port?: number;
  /** Address other regions should dial (the Go version's "outer" address). */
  outerHost?: string;
  /** Nodes to connect to. Their HELLO tells which services they host. */
  peers?: PeerAddress[];
  /** Default TCP (TLS when `tls`/`peerTls` are set). Use MemoryNetwork#transport() in unit tests. */
  transport?: Transport;
  /** Serve over TLS (mTLS with requestClientCert). */
  tls?: TlsServerOptions;
  /** Dial peers over TLS. */
  peerTls?: TlsClientOptions;
  /** Shared secret: required from callers when set, and sent to peers (unless peerToken is given). */
  token?: string;
  /** Token sent to peers, when it differs from `token`. */
  peerToken?: string;
  /** Deadline for calls that set none, in ms. Default 30000. 0 disables it (not recommended). */
  defaultTimeoutMs?: number;
  /** Concurrent calls served per connection. Default 10000. */
  maxConcurrentCalls?: number;
  /** Max inbound connections. Default 10000. */
  maxConnections?: number;
  /** How long close() waits for in-flight calls, in ms. Default 10000. */
  shutdownGraceMs?: number;
  interceptors?: Interceptor[];
  serverInterceptors?: ServerInterceptor[];
  connection?: Partial<ConnOptions>;
  reconnect?: Partial<BackoffOptions>;
  /** How calls pick among nodes hosting a service. Default "round-robin". */
  balancer?: Balancer;
  /** Prefer nodes of this node's region (falling back to others). Default true, as in the Go version. */
  preferSameRegion?: boolean;
  /**
   * Register in this registry (under a lease, with descriptors) and discover
   * peers from it. See goms/registry: createRegistry({ kv: ... }).
   */
  registry?: RegistryLike;
  /**
   * How long start() waits for the registry's first list of nodes, in ms.
   * Calls made earlier wait for the list anyway, within their deadline; the
   * bound only keeps start() from hanging while the registry is unreachable.
   * Default 2000.
   */
  discoverySyncTimeoutMs?: number;
  /** Dial every registered node, not only those hosting services this node calls (gateways). */
  connectAll?: boolean;
  /**
   * Calls made while a handler runs inherit its deadline, cancellation and
   * metadata without passing `parent` (AsyncLocalStorage). Default true;
   * `parent` in call options still wins.
   */
  inheritContext?: boolean;
  /**
   * Latency timing for call recorders (addCallRecorder, the monitor
   * collector). A method above `hotCallsPerSec` calls per second has one call
   * in `every` timed, weighted by `every`; counts stay exact. `"all"` times
   * every call. Diagnostics-channel subscribers always get every call timed.
   * Default `{ hotCallsPerSec: 1000, every: 8 }`.
   */
  callTiming?: Partial<TimingPolicy> | "all";
  /** Retry budget for idempotent calls. */
  retryBudget?: Partial<RetryBudgetOptions>;
}

/** Cheap read-only counters of a node (for monitoring). */
export interface NodeCounters {
  /** Inbound connections (other nodes and clients connected to this one). */
  serverConnections: number;
  /** Peers this node dialled that are ready for calls. */
  peersReady: number;
  /** Calls this node is serving right now (network and in-process). */
  servingCalls: number;
  /** Calls this node has outstanding on its peer connections. */
  outgoingCalls: number;
  /** Retries of idempotent calls on another node, since start. */
  retries: number;
  /** Milliseconds since the node was created. */
  uptimeMs: number;
}

export interface CloseOptions {
  /** Override NodeOptions.shutdownGraceMs. */
  graceMs?: number;
}
