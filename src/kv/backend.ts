import type { LeaseId } from "./lease.js";

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
  lease: LeaseId;
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
  put(key: string, value: Uint8Array, options?: { lease?: LeaseId }): Promise<number>;
  get(key: string): Promise<KvEntry | undefined>;
  /** Every key under prefix, sorted, with the store revision they were read at. */
  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }>;
  delete(key: string): Promise<number>;
  /** Grants a lease; keys put with it vanish when it expires or is revoked. */
  grant(ttlMs: number): Promise<LeaseId>;
  /** Refreshes a lease. Rejects with GomsError(NotFound) when it has expired. */
  keepAlive(lease: LeaseId): Promise<void>;
  revoke(lease: LeaseId): Promise<void>;
  /**
   * Watches keys under prefix, starting after `afterRevision` (exclusive:
   * the first event has revision > afterRevision) or from now when omitted.
   * A watch that can no longer be resumed ends with GomsError(OutOfRange).
   */
  watch(prefix: string, afterRevision?: number): KvWatch;
  close(): Promise<void>;
}

/** Makes a backend for a registry URL (see registryFromUrl's `schemes`). */
export type KvBackendFactory = (url: string) => KvBackend | Promise<KvBackend>;
