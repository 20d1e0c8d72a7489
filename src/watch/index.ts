// goms/watch: the watch store engine (it lives in src/kv, shared with the
// registry's embedded backend), the watch server and its client.
// The KvBackend contract and embeddedKv are exported by goms/registry.
export { createStore, WatchStore } from "../kv/store.js";
export { StoreWatch } from "../kv/store-watch.js";
export { hashKey, hashPrefix, splitHashKey, HASH_SEPARATOR } from "../kv/hash-keys.js";
export {
  compactedError,
  watcherBehindError,
  resumeRevisionOf,
  oldestRevisionOf,
  RESUME_REVISION_KEY,
  OLDEST_REVISION_KEY,
} from "../kv/errors.js";
export { crc32 } from "../internal/util/crc32.js";
export { text, utf8, type ValueInput } from "../kv/bytes.js";
export type {
  KeyValue,
  WatchEvent,
  WatchEventType,
  RangeResult,
  DeleteResult,
  PutOptions,
  DeleteOptions,
  HashSetOptions,
  WatchOptions,
  StoreOptions,
  RecoveryReport,
} from "../kv/types.js";
export { createWatchServer, WatchServer, type WatchServerOptions } from "./server.js";
export { createWatchClient, parseWatchUrl, watchSchemes, WatchClient, type WatchClientOptions } from "./client.js";
export { defaultPollLimits, type PollLimits } from "./poll.js";
export { WatchService } from "../gen/goms/v1/watch_pb.js";
