// goms/rpc: nodes, clients and handlers.
//
// For applications: create a node, host services, call them.
export { createNode, GomsNode } from "./node.js";
export type { CloseOptions, NodeCounters } from "./node.js";
export type {
  NodeAuthOptions,
  NodeCallsOptions,
  NodeDiscoveryOptions,
  NodeIdentityOptions,
  NodeLimitsOptions,
  NodeListenOptions,
  NodeOptions,
  NodePeersOptions,
} from "./node-options.js";
export type {
  BroadcastClient,
  BroadcastResult,
  CallOptions,
  CallResult,
  Client,
  DetailedClient,
  DetailedStream,
  MethodImpl,
  OneWayClient,
  ServiceHooks,
  ServiceImpl,
  ServiceOptions,
} from "./types.js";
export type { HandlerContext, ParentContext, PeerInfo, Metadata } from "../internal/conn/context.js";
export type { PeerAddress, Peer } from "./peer.js";
export type { Balancer } from "./peer-table.js";
export type { RetryBudgetOptions } from "./retry-budget.js";
export type { CallHedge, HedgeOptions, HedgeStats } from "./hedge.js";
export type { StreamCounters } from "../internal/conn/stream-counters.js";
export type { TlsClientOptions, TlsServerOptions } from "../internal/transport/tcp.js";
export { NodeService } from "../gen/goms/v1/node_pb.js";

// For library authors: interceptors, diagnostics, transports, registries.
export type { HandlerFn, Interceptor, ServerInterceptor, UnaryFn, UnaryRequest, UnaryResponse } from "./types.js";
export { observeStream, type StreamObserver } from "./stream-observe.js";
// The one bounded async queue, public so a server-streaming handler can feed
// its stream from events (docs/streams.md "Feeding a stream from events").
export { AsyncQueue, consumerTooSlow, type AsyncQueueOptions } from "../internal/util/async-queue.js";
export { channels } from "./diagnostics.js";
export type { CallEvent, PeerEvent } from "./diagnostics.js";
export { isInternalService } from "./services.js";
export { healthStatus, type HealthReport, type HealthStatus, type NodeHealth } from "./health.js";
export { tcpTransport } from "../internal/transport/tcp.js";
export type { TcpTransportOptions } from "../internal/transport/tcp.js";
export type { Transport, Listener, Stream } from "../internal/transport/types.js";
export type { RegistryLike, NodeChange } from "./discovery.js";
