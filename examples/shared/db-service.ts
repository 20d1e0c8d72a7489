// The examples' DB service (goms.examples.v1.DB): an in-memory map whose keys
// can be followed with DB.Watch. The microservice example's db nodes and the
// demo host it.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { AsyncQueue, type HandlerContext, type ServiceImpl } from "../../src/rpc/index.js";
import { DB, type WatchResponseSchema } from "../gen/goms/examples/v1/db_pb.js";

type Change = MessageInitShape<typeof WatchResponseSchema>;

export interface DbServiceOptions {
  /**
   * Changes held for one watcher while its stream's window is full (default
   * 64). A watcher that falls further behind ends with resource_exhausted
   * rather than growing this node's memory; it can watch again, starting
   * from the current value.
   */
  queueLimit?: number;
  /** Watchers this node serves at once, over all keys (default 1000); past it Watch answers resource_exhausted. */
  maxWatchers?: number;
  /** Runs after each Update (the microservice example logs it). */
  onUpdate?: (key: string, value: string) => void;
  /** Runs on each Query (the microservice example sets x-node). */
  onQuery?: (ctx: HandlerContext) => void;
}

export interface DbService {
  readonly impl: ServiceImpl<typeof DB>;
  /** Watchers open right now. */
  watchers(): number;
}

export function createDbService(o: DbServiceOptions = {}): DbService {
  const queueLimit = o.queueLimit ?? 64;
  const maxWatchers = o.maxWatchers ?? 1000;
  const data = new Map<string, { value: string; version: number }>();
  // key -> the queues of its watchers; a key leaves the map with its last watcher.
  const watching = new Map<string, Set<AsyncQueue<Change>>>();
  let open = 0;

  const publish = (key: string, change: Change): void => {
    for (const q of watching.get(key) ?? []) {
      if (!q.push(change)) {
        q.fail(new GomsError(`watcher of "${key}" fell behind by more than ${queueLimit} changes; watch again to start from the current value`, Code.ResourceExhausted));
      }
    }
  };

  const impl: ServiceImpl<typeof DB> = {
    update(req) {
      const version = (data.get(req.key)?.version ?? 0) + 1;
      data.set(req.key, { value: req.value, version });
      publish(req.key, { key: req.key, value: req.value, version });
      o.onUpdate?.(req.key, req.value);
      return {};
    },
    query(req, ctx) {
      o.onQuery?.(ctx);
      return { value: data.get(req.key)?.value ?? "" };
    },
    async *watch(req, ctx) {
      if (open >= maxWatchers) throw new GomsError(`this node already serves ${maxWatchers} watchers`, Code.ResourceExhausted);
      open++;
      const key = req.key;
      let set = watching.get(key);
      if (set === undefined) watching.set(key, (set = new Set()));
      const watchers = set;
      const q: AsyncQueue<Change> = new AsyncQueue<Change>({
        limit: queueLimit,
        onClose: () => {
          watchers.delete(q);
          if (watchers.size === 0 && watching.get(key) === watchers) watching.delete(key);
          open--;
        },
      });
      watchers.add(q);
      const cur = data.get(key);
      q.push({ key, value: cur?.value ?? "", version: cur?.version ?? 0 });
      // The generator may be waiting for the next change when the caller goes away: stopping the queue wakes it.
      const stop = (): void => q.stop();
      ctx.signal.addEventListener("abort", stop, { once: true });
      try {
        yield* q;
      } finally {
        ctx.signal.removeEventListener("abort", stop);
        q.stop();
      }
    },
  };
  return { impl, watchers: () => open };
}

/**
 * The `curl -N` line that follows DB.Watch through a gateway at `base` (SSE:
 * one event per change). It asks for the gateway's longest deadline, 60 s;
 * the stream then ends with a deadline_exceeded event.
 */
export function watchCurl(base: string, key = "123"): string {
  return `curl -N -H 'x-goms-timeout-ms: 60000' -d '{"key":"${key}"}' ${base}/api/DB/Watch`;
}
