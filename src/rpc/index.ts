export { createNode, GomsNode } from "./node.js";
export { isInternalService } from "./services.js";
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
export type { PeerAddress, Peer } from "./peer.js";
export type { HandlerContext, ParentContext, PeerInfo, Metadata } from "../internal/conn/context.js";
export type {
  BroadcastClient,
  BroadcastResult,
  CallOptions,
  CallResult,
  Client,
  DetailedClient,
  HandlerFn,
  Interceptor,
  MethodImpl,
  OneWayClient,
  ServerInterceptor,
  ServiceHooks,
  ServiceOptions,
  ServiceImpl,
  UnaryFn,
  UnaryRequest,
  UnaryResponse,
} from "./types.js";
export { channels } from "./diagnostics.js";
export type { CallEvent, PeerEvent } from "./diagnostics.js";
export { tcpTransport } from "../internal/transport/tcp.js";
export type { TlsClientOptions, TlsServerOptions, TcpTransportOptions } from "../internal/transport/tcp.js";
export { MemoryNetwork } from "../internal/transport/memory.js";
export type { Transport, Listener, Stream } from "../internal/transport/types.js";
export { Code, GomsError } from "../errors/index.js";
export { NodeService } from "../gen/goms/v1/node_pb.js";
export type { RegistryLike, NodeChange } from "./discovery.js";
export type { Balancer } from "./peer-table.js";
export type { RetryBudgetOptions } from "./retry-budget.js";
