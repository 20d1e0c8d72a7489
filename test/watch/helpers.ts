import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreWatch, WatchEvent } from "../../src/watch/index.js";

/** A temp dir removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "goms-watch-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A manual clock. */
export function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Reads exactly n events; fails if the watcher ends first or stalls for `timeoutMs`. */
export async function take(w: StoreWatch, n: number, timeoutMs = 2000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watcher stalled after ${String(out.length)} of ${String(n)} events`)), timeoutMs);
    });
    try {
      const r = await Promise.race([w.next(), stalled]);
      if (r.done === true) throw new Error(`watcher ended after ${String(out.length)} of ${String(n)} events`);
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Event summary for deep comparisons. */
export function brief(e: WatchEvent): string {
  return `${String(e.revision)}:${e.type}:${e.key}=${dec(e.value) ?? ""}`;
}
