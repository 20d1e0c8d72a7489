import cluster, { type Worker } from "node:cluster";
import { Code, GomsError, gomsError } from "../errors/index.js";
import { RateLimiter, RetryLater, type BucketOptions, type RateLimitOptions, type TokenSource } from "../gateway/index.js";
import { createInstanceManager, describeInstanceEvent, type InstanceManager } from "../instances/index.js";

/**
 * `goms gateway --workers N`: one HTTP port served by N node:cluster workers,
 * each a gate node of its own. The primary serves no HTTP; it restarts workers
 * (the instance manager, with backoff), drains them on SIGTERM, and holds the
 * rate-limit token buckets so that a limit is shared by all workers: a worker
 * asks for its tokens over the cluster's IPC channel, in one message per
 * event-loop turn, and the primary answers from its own buckets. A shared limit
 * therefore admits at most what one gateway process would (burst + rate × time),
 * whatever N is and however connections are spread; the price is one IPC round
 * trip per limited request.
 */

type Limit = "perIp" | "perRoute";
/** worker → primary: takes of one event-loop turn, [id, limit, key]. */
interface TakeMessage {
  gomsTokens: "take";
  takes: [number, Limit, string][];
}
/**
 * primary → worker: [id, seconds to wait (0 = admitted)], or [id, seconds, keys]
 * when the limiter's table of `keys` buckets was full and refused the new key.
 */
type Wait = [number, number] | [number, number, number];
interface WaitMessage {
  gomsTokens: "wait";
  waits: Wait[];
}

function isTake(m: unknown): m is TakeMessage {
  return typeof m === "object" && m !== null && (m as { gomsTokens?: unknown }).gomsTokens === "take" && Array.isArray((m as TakeMessage).takes);
}
function isWait(m: unknown): m is WaitMessage {
  return typeof m === "object" && m !== null && (m as { gomsTokens?: unknown }).gomsTokens === "wait" && Array.isArray((m as WaitMessage).waits);
}

/** The primary's buckets, one limiter per configured limit, answering every worker. */
export function sharedBuckets(rl: RateLimitOptions): (worker: Worker) => void {
  const limiters: Partial<Record<Limit, RateLimiter>> = {};
  if (rl.perIp) limiters.perIp = new RateLimiter(rl.perIp, rl.maxKeys);
  if (rl.perRoute) limiters.perRoute = new RateLimiter(rl.perRoute, rl.maxKeys);
  return (worker) => {
    worker.on("message", (m: unknown) => {
      if (!isTake(m) || !worker.isConnected()) return;
      const waits = m.takes.map(([id, limit, key]): Wait => {
        try {
          return [id, limiters[limit]?.take(key) ?? 0];
        } catch (e) {
          if (e instanceof RetryLater) return [id, e.retryAfterSec, rl.maxKeys ?? 10_000];
          throw e;
        }
      });
      worker.send({ gomsTokens: "wait", waits } satisfies WaitMessage);
    });
  };
}

/** A worker's side: TokenSources that ask the primary, batched per event-loop turn. */
export function workerTokens(): (limit: Limit, bucket: BucketOptions) => TokenSource {
  const send = process.send?.bind(process);
  if (send === undefined || !cluster.isWorker) throw new GomsError("shared rate limits need a cluster worker", Code.FailedPrecondition);
  const pending = new Map<number, { resolve(w: number): void; reject(e: Error): void }>();
  let queue: [number, Limit, string][] = [];
  let nextId = 0;
  const flush = (): void => {
    const takes = queue;
    queue = [];
    send({ gomsTokens: "take", takes } satisfies TakeMessage);
  };
  process.on("message", (m: unknown) => {
    if (!isWait(m)) return;
    for (const [id, wait, keys] of m.waits) {
      const p = pending.get(id);
      pending.delete(id);
      if (keys === undefined) p?.resolve(wait);
      else p?.reject(new RetryLater(gomsError("GOMS_ERR_RATE_LIMIT_FULL", { keys, retryAfterSec: wait }), wait));
    }
  });
  process.once("disconnect", () => {
    for (const p of pending.values()) p.reject(new GomsError("the gateway's primary process is gone", Code.Unavailable));
    pending.clear();
  });
  return (limit) => ({
    take: (key) =>
      new Promise<number>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        if (queue.push([id, limit, key]) === 1) setImmediate(flush);
      }),
  });
}

/** The instance index cluster.fork gave this worker (GOMS_INSTANCE), for its node name. */
export function workerIndex(): number {
  return Number(process.env["GOMS_INSTANCE"] ?? 0);
}


/**
 * The primary: forks N workers (this same command line, run again by
 * node:cluster), restarts them, and drains them on SIGINT/SIGTERM.
 */
export async function runGatewayPrimary(o: { workers: number; rateLimit: RateLimitOptions | undefined; graceMs: number }, out: (line: string) => void): Promise<InstanceManager> {
  const serve = o.rateLimit !== undefined ? sharedBuckets(o.rateLimit) : undefined;
  let stopping = false;
  const manager = createInstanceManager({
    instances: o.workers,
    spawn: (env) => {
      const w = cluster.fork(env);
      serve?.(w);
      return w.process;
    },
    shutdownGraceMs: o.graceMs,
    onEvent: (e) => out(`gateway: ${describeInstanceEvent(e, "worker")}`),
  });
  await manager.start();
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    out(`gateway: ${signal}, draining ${o.workers} workers`);
    void manager.close().then(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return manager;
}
