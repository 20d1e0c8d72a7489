// goms/registry: the node registry and its backends. The KvBackend contract
// (src/kv) is public from here only.
export type { KvBackend, KvBackendFactory, KvEntry, KvEvent, KvWatch } from "../kv/backend.js";
export type { LeaseId } from "../kv/lease.js";
export { embeddedKv, type EmbeddedKv, type EmbeddedKvOptions } from "../kv/embedded.js";
export { etcdKv, type EtcdKvOptions } from "./etcd.js";
export { createRegistry, type Registry, type RegistryOptions } from "./registry.js";
export { Registration, type RegistrationHooks, type RegistrationState } from "./registration.js";
export type { RegistryNodeChange, NodeWatch } from "./node-watch.js";
export { registryFromUrl, type RegistryUrlOptions } from "./url.js";
