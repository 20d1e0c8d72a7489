export { Cluster, createCluster } from "./cluster.js";
export type { ClusterNodeOptions, ClusterOptions } from "./cluster.js";
export { MemoryNetwork } from "../internal/transport/memory.js";
export type { LinkFaults } from "../internal/transport/memory.js";
