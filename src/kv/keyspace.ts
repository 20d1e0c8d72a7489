import type { KeyValue } from "./types.js";

/** The live keys, with prefix scans in sorted (UTF-16 code unit) order. */
export class Keyspace {
  private readonly map = new Map<string, KeyValue>();
  private sorted: string[] | undefined = [];

  get size(): number {
    return this.map.size;
  }

  get(key: string): KeyValue | undefined {
    return this.map.get(key);
  }

  set(kv: KeyValue): void {
    if (!this.map.has(kv.key)) this.sorted = undefined;
    this.map.set(kv.key, kv);
  }

  delete(key: string): boolean {
    const had = this.map.delete(key);
    if (had) this.sorted = undefined;
    return had;
  }

  values(): IterableIterator<KeyValue> {
    return this.map.values();
  }

  /** Keys starting with `prefix`, sorted. */
  keysWithPrefix(prefix: string): string[] {
    const keys = this.sortedKeys();
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as string) < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < keys.length; i++) {
      const k = keys[i] as string;
      if (!k.startsWith(prefix)) break;
      out.push(k);
    }
    return out;
  }

  /** Entries whose key starts with `prefix`, sorted by key. */
  withPrefix(prefix: string): KeyValue[] {
    return this.keysWithPrefix(prefix).map((k) => this.map.get(k) as KeyValue);
  }

  private sortedKeys(): string[] {
    if (this.sorted === undefined) this.sorted = [...this.map.keys()].sort();
    return this.sorted;
  }
}
