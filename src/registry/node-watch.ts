import { Code, GomsError } from "../errors/index.js";
import type { NodeRegistration } from "../gen/goms/v1/registry_pb.js";
import type { NodeChange } from "../rpc/index.js";
import { backoffDelay } from "../internal/util/backoff.js";
import type { KvBackend, KvWatch } from "../kv/backend.js";
import { sleep } from "../internal/util/sleep.js";
import { isTransient } from "../internal/util/transient.js";

/**
 * A node going up or down as the registry reports it: the NodeChange a goms
 * node's discovery consumes (name, registration for "up"), plus where the
 * node is registered.
 */
export interface RegistryNodeChange extends NodeChange {
  /** Node name (from the key). */
  readonly name: string;
  /** Node set (from the key). */
  readonly set: string;
  readonly key: string;
  /** The registration, for "up". */
  readonly registration?: NodeRegistration;
}

/** Iterate with for-await; stop() (or break) ends it. */
export interface NodeWatch extends AsyncIterable<RegistryNodeChange> {
  stop(): void;
}

export interface NodeWatchDeps {
  readonly kv: KvBackend;
  readonly prefix: string;
  readonly decode: (key: string, value: Uint8Array) => NodeRegistration | undefined;
  readonly onError?: ((err: GomsError) => void) | undefined;
}

export function splitNodeKey(prefix: string, key: string): { set: string; name: string } {
  const rest = key.slice(prefix.length);
  const i = rest.indexOf("/");
  return i < 0 ? { set: "", name: rest } : { set: rest.slice(0, i), name: rest.slice(i + 1) };
}

/**
 * List, then watch from the list's revision. When the watch cannot resume
 * (OutOfRange: history compacted) or the backend is unavailable, it lists
 * again and emits the difference against what it has already reported, so a
 * consumer never misses an up or a down. Pull-based: nothing is buffered
 * beyond what the backend's watch holds.
 */
export function watchNodes(deps: NodeWatchDeps): NodeWatch {
  const { kv, prefix, decode } = deps;
  const ac = new AbortController();
  let current: KvWatch | undefined;
  /** key -> modRevision of every node reported up and not yet down. */
  const known = new Map<string, number>();

  const up = (key: string, registration: NodeRegistration): RegistryNodeChange => ({ type: "up", key, registration, ...splitNodeKey(prefix, key) });
  const down = (key: string): RegistryNodeChange => ({ type: "down", key, ...splitNodeKey(prefix, key) });
  const report = (e: unknown): void => deps.onError?.(GomsError.from(e));

  async function* run(): AsyncGenerator<RegistryNodeChange, void, undefined> {
    let attempt = 0;
    try {
      while (!ac.signal.aborted) {
        let listed;
        try {
          listed = await kv.range(prefix);
        } catch (e) {
          if (!isTransient(e)) throw e;
          report(e);
          await sleep(backoffDelay(attempt++, { initialMs: 50, maxMs: 1000 }), ac.signal);
          continue;
        }
        attempt = 0;
        const seen = new Set<string>();
        for (const e of listed.entries) {
          seen.add(e.key);
          if (known.get(e.key) === e.modRevision) continue;
          const reg = decode(e.key, e.value);
          if (reg === undefined) continue;
          known.set(e.key, e.modRevision);
          yield up(e.key, reg);
        }
        for (const key of [...known.keys()]) {
          if (seen.has(key)) continue;
          known.delete(key);
          yield down(key);
        }
        if (ac.signal.aborted) return;
        current = kv.watch(prefix, listed.revision);
        try {
          for await (const ev of current) {
            if (ev.type === "put" && ev.value !== undefined) {
              const reg = decode(ev.key, ev.value);
              if (reg === undefined) continue;
              known.set(ev.key, ev.revision);
              yield up(ev.key, reg);
            } else if (ev.type === "delete" && known.delete(ev.key)) {
              yield down(ev.key);
            }
          }
        } catch (e) {
          if (ac.signal.aborted) return;
          const resync = GomsError.is(e) && (e.code === Code.OutOfRange || isTransient(e));
          if (!resync) throw e;
          report(e);
        } finally {
          current.stop();
          current = undefined;
        }
      }
    } finally {
      ac.abort();
    }
  }

  const gen = run();
  return {
    [Symbol.asyncIterator]: () => gen,
    stop() {
      ac.abort();
      current?.stop();
      void gen.return(undefined).catch(() => undefined);
    },
  };
}
