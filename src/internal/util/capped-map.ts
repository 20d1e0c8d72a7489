import { GomsError } from "../../errors/index.js";

/**
 * A Map with a fixed maximum number of keys: the one place goms bounds a
 * keyed table (tracked nodes, throttle entries, leases, sessions...).
 *
 * Adding a new key to a full map never evicts silently: an attacker who can
 * create keys (new node names, new user names) could otherwise push out the
 * entries that matter, such as a throttle's lock on the real account. Instead
 * `trySet` reports the refusal and `set` throws the caller's error, so each
 * owner chooses what "full" means to its users (a 429, a refused push...).
 * Updating a key that is already present always succeeds.
 */
export class CappedMap<K, V> implements Iterable<[K, V]> {
  private readonly map = new Map<K, V>();

  /**
   * @param limit  the most keys the map holds (>= 1).
   * @param full   builds the error `set` throws when a new key does not fit.
   */
  constructor(
    readonly limit: number,
    private readonly full: (limit: number) => GomsError,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`CappedMap limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** True when one more new key would be refused. */
  get isFull(): boolean {
    return this.map.size >= this.limit;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores `value`; false (and nothing stored) when `key` is new and the map is full. */
  trySet(key: K, value: V): boolean {
    if (this.map.size >= this.limit && !this.map.has(key)) return false;
    this.map.set(key, value);
    return true;
  }

  /** Stores `value`, or throws the map's "full" error when `key` is new and the map is full. */
  set(key: K, value: V): this {
    if (!this.trySet(key, value)) throw this.full(this.limit);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
