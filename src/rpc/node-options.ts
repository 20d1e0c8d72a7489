import type { StreamCounters } from "../internal/conn/stream-counters.js";
import type { ConnOptions } from "../internal/conn/options.js";
import type { AdmissionStats } from "../internal/admission/admission.js";
import type { ConcurrencyLimitOptions } from "../internal/admission/limiter.js";
import type { OutlierOptions, OutlierStats } from "../internal/health/outlier.js";
import type { TimingPolicy } from "./timing-sampler.js";
import type { HedgeOptions, HedgeStats } from "./hedge.js";
import type { TlsClientOptions, TlsServerOptions } from "../internal/transport/tcp.js";
import type { Transport } from "../internal/transport/types.js";
import type { BackoffOptions } from "../internal/util/backoff.js";
import type { RegistryLike } from "./discovery.js";
import type { PeerAddress } from "./peer.js";
import type { RetryBudgetOptions } from "./retry-budget.js";
import type { Balancer } from "./peer-table.js";
import type { Interceptor, ServerInterceptor } from "./types.js";

/** Who the node is: sent in HELLO, published in the registry, shown by the console. */
export interface NodeIdentityOptions {
  /** Node name, unique in the cluster (e.g. "db0"). */
  name: string;
  id?: number;
  type?: string;
  /** Region number; with `calls.preferSameRegion`, calls stay in the region when they can. */
  region?: number;
  set?: string;
}

/** Where the node accepts connections. A node without `listen` only makes calls. */
export interface NodeListenOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on. Default 0: a free one (see `node.port` after start). */
  port?: number;
  /** Address other regions should dial, when it differs from `host` (NAT, public address). */
  outerHost?: string;
  /** Serve over TLS (mTLS with requestClientCert). */
  tls?: TlsServerOptions;
  /** Max inbound connections. Default 10000. */
  maxConnections?: number;
}

/** The nodes this node dials itself (besides those found through `discovery`). */
export interface NodePeersOptions {
  /** Nodes to connect to at start. Their HELLO tells which services they host. */
  addresses?: PeerAddress[];
  /** Dial peers over TLS. */
  tls?: TlsClientOptions;
  /** Delays between reconnection attempts to a lost peer. */
  reconnect?: Partial<BackoffOptions>;
}

/** Shared-secret authentication between nodes. */
export interface NodeAuthOptions {
  /** Required from callers when set, and sent to peers (unless `peerToken` is given). */
  token?: string;
  /** Token sent to peers, when it differs from `token`. */
  peerToken?: string;
}

/** How the node makes and serves calls. */
export interface NodeCallsOptions {
  /** Deadline for calls that set none, in ms. Default 30000. 0 disables it (not recommended). */
  defaultTimeoutMs?: number;
  /** Run around every call this node makes, outermost first. */
  interceptors?: Interceptor[];
  /** Run around every call this node serves, outermost first. */
  serverInterceptors?: ServerInterceptor[];
  /** How calls pick among nodes hosting a service. Default "round-robin". */
  balancer?: Balancer;
  /** Prefer nodes of this node's region (falling back to others). Default true. */
  preferSameRegion?: boolean;
  /** Retry budget for idempotent calls. */
  retryBudget?: Partial<RetryBudgetOptions>;
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
  /**
   * Per-peer outlier ejection and circuit breaker (docs/resilience.md): a peer
   * that fails calls in a row, stops answering, or whose error rate or latency
   * stands out from the others' is taken out of routing for a growing period,
   * and comes back once a probe answers. On by default; `false` turns it off.
   */
  outlierDetection?: Partial<OutlierOptions> | false;
  /**
   * Hedged requests (docs/resilience.md): a call of an idempotent method with
   * no answer after `afterMs`, or after the method's observed p95 with
   * `percentile: "p95"` (then `afterMs` is the least delay), is sent once more
   * to another routable node; the first answer wins and the other copy is
   * cancelled. Hedges draw from `retryBudget`. Default `{ percentile: "p95" }`;
   * `false` turns hedging off.
   */
  hedge?: HedgeOptions | false;
}

/** Registration and peer discovery through a registry. */
export interface NodeDiscoveryOptions {
  /**
   * Register in this registry (under a lease, with descriptors) and discover
   * peers from it. See goms/registry: createRegistry({ kv: ... }).
   */
  registry?: RegistryLike;
  /** Dial every registered node, not only those hosting services this node calls (gateways). */
  connectAll?: boolean;
  /**
   * How long start() waits for the registry's first list of nodes, in ms.
   * Calls made earlier wait for the list anyway, within their deadline; the
   * bound only keeps start() from hanging while the registry is unreachable.
   * Default 2000.
   */
  syncTimeoutMs?: number;
}

/** Resource bounds and connection tunables. */
export interface NodeLimitsOptions {
  /** Concurrent calls served per connection. Default 10000. */
  maxConcurrentCalls?: number;
  /** How long close() waits for in-flight calls, in ms. Default 10000. */
  shutdownGraceMs?: number;
  /**
   * Inbound connections still in preface/HELLO at the same time. Past it, new
   * connections are closed at once. Until its HELLO is accepted a connection's
   * frame limit is 16 KiB, so unauthenticated peers hold at most about
   * maxPendingHandshakes x 16 KiB (plus socket buffers). Default 64.
   */
  maxPendingHandshakes?: number;
  /**
   * Per-connection tunables: frame size, heartbeats (`heartbeatMs`,
   * `heartbeatTimeoutMs`), the output bound (`maxBufferedBytes`: stop reading
   * past it, GOAWAY 8 past twice it; `stallTimeoutMs`) and write batching.
   */
  connection?: Partial<ConnOptions>;
  /**
   * The node's adaptive concurrency limit (docs/resilience.md): calls over it
   * are refused at once with resource_exhausted and a retry-elsewhere hint.
   * On by default; `false` turns it off (a node behind its own queue, tests).
   */
  adaptiveConcurrency?: Partial<ConcurrencyLimitOptions> | false;
  /**
   * Refuse, before its handler runs, a call whose deadline has passed or is
   * shorter than a typical run of its method. Default true.
   */
  deadlineAdmission?: boolean;
}

export interface NodeOptions {
  identity: NodeIdentityOptions;
  /** Accept connections. Without it the node only makes calls. */
  listen?: NodeListenOptions;
  peers?: NodePeersOptions;
  auth?: NodeAuthOptions;
  calls?: NodeCallsOptions;
  discovery?: NodeDiscoveryOptions;
  limits?: NodeLimitsOptions;
  /** Default TCP (TLS when `listen.tls`/`peers.tls` are set). Use MemoryNetwork#transport() (goms/testing) in unit tests. */
  transport?: Transport;
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
  /** Retries on another node (idempotent calls that failed unavailable, calls refused with the retry-elsewhere hint), since start. */
  retries: number;
  /** Admission of served calls: the adaptive limit, admitted and refused calls, queue time. */
  admission: AdmissionStats;
  /** Hedged requests: second copies sent, and calls they answered first, since start. */
  hedges: HedgeStats;
  /** Streams since start, served and made, over the network and in-process: opened, messages sent and received, and sends that waited for the receiver (docs/streams.md, "Watching streams"). */
  streams: StreamCounters;
  /** Outlier ejection and breakers of the peers this node calls: ejections, probes, and each peer's state. */
  outliers: OutlierStats;
  /** Milliseconds since the node was created. */
  uptimeMs: number;
}

export interface CloseOptions {
  /** Override NodeOptions.limits.shutdownGraceMs. */
  graceMs?: number;
}
