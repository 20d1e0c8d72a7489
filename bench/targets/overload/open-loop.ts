import type { EventLoopUtilization } from "node:perf_hooks";

/**
 * The overload bench's load: an open loop, the same for every target. Calls
 * are sent at `rate` per second whatever happens to earlier ones (every
 * millisecond tick sends what the schedule owes), each with a deadline of
 * `deadlineMs`. Rate 0 runs a closed loop of 8 calls in flight instead, to
 * measure capacity. Counts only what the measured window (after the warm-up) sent.
 */
export interface LoadResult {
  sent: number;
  ok: number;
  late: number;
  refused: number;
  timedOut: number;
  other: number;
  firstOther: string;
  seconds: number;
  p50: number;
  p99: number;
}

export interface LoadOptions {
  rate: number;
  warmupMs: number;
  durationMs: number;
  deadlineMs: number;
}

/** How a target's failed call counts: refused by the server's admission, past its deadline, or anything else. */
export type Failure = "refused" | "timedOut" | "other";

/** The load options from the environment the suite sets. */
export function loadFromEnv(): LoadOptions {
  return {
    rate: Number(process.env.OVERLOAD_RATE),
    warmupMs: Number(process.env.OVERLOAD_WARMUP_MS),
    durationMs: Number(process.env.OVERLOAD_DURATION_MS),
    deadlineMs: Number(process.env.OVERLOAD_DEADLINE_MS),
  };
}

/** Runs the load: `call(deadlineMs)` makes one call; `classify` sorts its failures. */
export async function runLoad(call: (deadlineMs: number) => Promise<unknown>, classify: (e: unknown) => Failure, o: LoadOptions): Promise<LoadResult> {
  const lat: number[] = [];
  const r: LoadResult = { sent: 0, ok: 0, late: 0, refused: 0, timedOut: 0, other: 0, firstOther: "", seconds: o.durationMs / 1000, p50: Number.NaN, p99: Number.NaN };
  let measuring = false;
  const one = (): Promise<void> => {
    const t0 = performance.now();
    const counted = measuring;
    if (counted) r.sent++;
    return call(o.deadlineMs).then(
      () => {
        const ms = performance.now() - t0;
        if (!counted) return;
        if (ms > o.deadlineMs) r.late++;
        else {
          r.ok++;
          lat.push(ms);
        }
      },
      (e: unknown) => {
        if (!counted) return;
        const kind = classify(e);
        r[kind]++;
        if (kind === "other") r.firstOther ||= String((e as { message?: unknown }).message ?? e);
      },
    );
  };
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  if (o.rate > 0) {
    await new Promise<void>((resolve) => {
      let due = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        measuring = now >= measureFrom && now < end;
        if (now >= end) {
          clearInterval(timer);
          resolve();
          return;
        }
        const owed = Math.floor(((now - start) * o.rate) / 1000) - due;
        for (let i = 0; i < owed; i++) void one();
        due += owed;
      }, 1);
    });
  } else {
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        measuring = performance.now() >= measureFrom;
        await one();
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
  }
  measuring = false;
  // Let the calls of the window settle (each ends by its deadline).
  await new Promise((res) => setTimeout(res, o.deadlineMs + 200));
  lat.sort((a, b) => a - b);
  const p = (q: number): number => (lat.length === 0 ? Number.NaN : lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!);
  r.p50 = p(0.5);
  r.p99 = p(0.99);
  return r;
}

/** The handler's fixed CPU cost: a busy loop of `costMs`. */
export function burn(costMs: number): void {
  const end = performance.now() + costMs;
  while (performance.now() < end);
}

/** How much of a core the server got, and how busy its event loop was, over the measured window. */
export interface ServerWindow {
  /** CPU time (user + system) per wall-clock second: 1 = a whole core. */
  cpu: number;
  /** Event-loop utilization: below 1 under overload means the server sat idle. */
  elu: number;
}

/**
 * The server side's view of the measured window: call `onCall()` from the
 * handler; the window starts the warm-up after the first call and lasts the
 * load's duration (from the same environment as loadFromEnv). On a machine
 * where the load generator and the server share the cores, a goodput below
 * capacity with `cpu` well below 1 is the machine's doing, not the server's.
 */
export function serverWindow(): { onCall(): void; result(): ServerWindow | undefined } {
  let armed = false;
  let start: { elu: EventLoopUtilization; cpu: NodeJS.CpuUsage; t: number } | undefined;
  let out: ServerWindow | undefined;
  const o = loadFromEnv();
  // A busy server's timers fire late: the window ends when its timer fires or
  // when the result is asked for, whichever comes first.
  const end = (): void => {
    if (start === undefined || out !== undefined) return;
    const c = process.cpuUsage(start.cpu);
    out = { cpu: (c.user + c.system) / 1000 / (performance.now() - start.t), elu: performance.eventLoopUtilization(start.elu).utilization };
  };
  return {
    onCall() {
      if (armed) return;
      armed = true;
      setTimeout(() => {
        start = { elu: performance.eventLoopUtilization(), cpu: process.cpuUsage(), t: performance.now() };
        setTimeout(end, o.durationMs);
      }, o.warmupMs);
    },
    result() {
      end();
      return out;
    },
  };
}
