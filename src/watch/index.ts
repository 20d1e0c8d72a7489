export { createStore, WatchStore } from "./store.js";
export { Watcher } from "./watcher.js";
export { hashKey, hashPrefix, splitHashKey, HASH_SEPARATOR } from "./hash-keys.js";
export {
  compactedError,
  watcherBehindError,
  resumeRevisionOf,
  oldestRevisionOf,
  RESUME_REVISION_KEY,
  OLDEST_REVISION_KEY,
} from "./errors.js";
export { crc32 } from "./crc32.js";
export { text, utf8, type ValueInput } from "./bytes.js";
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
} from "./types.js";
