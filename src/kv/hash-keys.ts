/**
 * Hashes live in the ordinary keyspace: field `f` of hash `h` is the key
 * `h + "\u0000" + f`. Every field change is therefore a normal key change with
 * its own revision and watch event.
 */
export const HASH_SEPARATOR = "\u0000";

/** The key that stores field `field` of hash `hash`. */
export function hashKey(hash: string, field: string): string {
  return hash + HASH_SEPARATOR + field;
}

/** The prefix shared by every field of `hash`. */
export function hashPrefix(hash: string): string {
  return hash + HASH_SEPARATOR;
}

/** Splits a stored key into hash and field; undefined for a plain key. */
export function splitHashKey(key: string): { hash: string; field: string } | undefined {
  const i = key.indexOf(HASH_SEPARATOR);
  if (i < 0) return undefined;
  return { hash: key.slice(0, i), field: key.slice(i + 1) };
}

/** The top-level name of a key: the hash name for a hash field, else the key. */
export function topLevelName(key: string): string {
  const i = key.indexOf(HASH_SEPARATOR);
  return i < 0 ? key : key.slice(0, i);
}
