export { createStore, WatchStore } from "../kv/store.js";
export { Watcher } from "../kv/watcher.js";
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
export { createWatchClient, parseWatchUrl, WatchClient, type WatchClientOptions } from "./client.js";
export { embeddedKv, EmbeddedKv, type EmbeddedKvOptions } from "../kv/embedded.js";
export { defaultPollLimits, type PollLimits } from "./poll.js";
export { WatchService } from "../gen/goms/v1/watch_pb.js";
