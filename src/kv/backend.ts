/**
 * The key-value contract every registry backend implements: the embedded
 * watch store, the watch server (over goms RPC) and etcd. The registry
 * (registry.ts) is written once against it; test/registry/conformance runs
 * against every backend.
 */
export interface KvEntry {
  key: string;
  value: Uint8Array;
  /** Revision of the last change to this key. */
  modRevision: number;
  /** Lease id ("" when none). */
  lease: string;
}

export interface KvEvent {
  type: "put" | "delete";
  key: string;
  /** New value for puts; undefined for deletes. */
  value: Uint8Array | undefined;
  revision: number;
}

/** A watch: iterate events with for-await; stop() ends the iteration. */
export interface KvWatch extends AsyncIterable<KvEvent> {
  stop(): void;
}

export interface KvBackend {
  /** "embedded", "watch" or "etcd". */
  readonly kind: string;
  put(key: string, value: Uint8Array, options?: { lease?: string }): Promise<number>;
  get(key: string): Promise<KvEntry | undefined>;
  /** Every key under prefix, sorted, with the store revision they were read at. */
  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }>;
  delete(key: string): Promise<number>;
  /** Grants a lease; keys put with it vanish when it expires or is revoked. */
  grant(ttlMs: number): Promise<string>;
  /** Refreshes a lease. Rejects with GomsError(NotFound) when it has expired. */
  keepAlive(lease: string): Promise<void>;
  revoke(lease: string): Promise<void>;
  /**
   * Watches keys under prefix, starting after `fromRevision` (exclusive:
   * the first event has revision > fromRevision) or from now when omitted.
   * A watch that can no longer be resumed ends with GomsError(OutOfRange).
   */
  watch(prefix: string, fromRevision?: number): KvWatch;
  close(): Promise<void>;
}

/** Makes a backend for a registry URL (see registryFromUrl's `schemes`). */
export type KvBackendFactory = (url: string) => KvBackend | Promise<KvBackend>;
