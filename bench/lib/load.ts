/**
 * Closed-loop load driver, run inside a client process.
 *
 * `inflight` workers each keep exactly one call outstanding. Phases are driven by
 * timers (warmup -> measured window -> drain), so a hung target cannot stall the
 * loop: the window ends on time or after `maxCalls`, and the drain gives up after
 * `drainMs`. Latency goes into a perf_hooks histogram (ns), CPU is process.cpuUsage()
 * over the measured window.
 */
import { createHistogram, performance } from "node:perf_hooks";
import type { ClientStats, LevelSpec } from "./protocol.js";
import { errorMessage } from "./protocol.js";

/** Callback form: call `done(undefined)` on success, `done(err)` on failure. */
export type Invoke = (done: (err: unknown) => void) => void;

/** A call the load loop can drive: callback-style (raw) or promise-returning (frameworks). */
export type Call = { kind: "callback"; invoke: Invoke } | { kind: "promise"; fn: () => Promise<unknown> };

export interface WindowHooks {
  onWindow?: (edge: "start" | "end") => void;
}

const enum Phase {
  Warmup,
  Measure,
  Stopped,
}

/** This process's CPU time so far (user + system, every thread), µs. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export function runLoad(call: Call, spec: LevelSpec, hooks: WindowHooks = {}): Promise<ClientStats> {
  return new Promise((resolve) => {
    const hist = createHistogram();
    let phase: Phase = Phase.Warmup;
    let outstanding = 0;
    let activeWorkers = 0;
    let calls = 0;
    let errors = 0;
    let firstError: string | undefined;
    let windowStart = 0;
    let windowEnd = 0;
    let cpuStart = 0;
    let cpuUs = 0;
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const finish = (drained: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(warmupTimer);
      clearTimeout(windowTimer);
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      const elapsedMs = windowEnd - windowStart;
      const stats: ClientStats = {
        level: spec.level,
        calls,
        errors,
        elapsedMs,
        qps: elapsedMs > 0 ? (calls * 1000) / elapsedMs : 0,
        p50Us: calls > 0 ? hist.percentile(50) / 1000 : 0,
        p99Us: calls > 0 ? hist.percentile(99) / 1000 : 0,
        meanUs: calls > 0 ? hist.mean / 1000 : 0,
        maxUs: calls > 0 ? hist.max / 1000 : 0,
        cpuUs,
        cpuUsPerCall: calls > 0 ? cpuUs / calls : 0,
        drained,
      };
      if (firstError !== undefined) stats.firstError = firstError;
      resolve(stats);
    };

    const endWindow = (): void => {
      if (phase === Phase.Stopped) return;
      if (phase === Phase.Warmup) startWindow(); // degenerate: window ended before it started
      phase = Phase.Stopped;
      windowEnd = performance.now();
      cpuUs = cpuNow() - cpuStart;
      hooks.onWindow?.("end");
      if (outstanding === 0) finish(true);
      else drainTimer = setTimeout(() => finish(false), spec.drainMs);
    };

    const startWindow = (): void => {
      if (phase !== Phase.Warmup) return;
      hist.reset();
      calls = 0;
      hooks.onWindow?.("start");
      phase = Phase.Measure;
      cpuStart = cpuNow();
      windowStart = performance.now();
      windowTimer = setTimeout(endWindow, spec.durationMs);
    };

    const warmupTimer: NodeJS.Timeout = setTimeout(startWindow, spec.warmupMs);
    let windowTimer: NodeJS.Timeout | undefined;

    const startWorker = (): void => {
      let t0 = 0;
      activeWorkers++;
      const completed = (err: unknown): void => {
        outstanding--;
        if (err !== undefined && err !== null) {
          errors++;
          firstError ??= errorMessage(err);
          activeWorkers--;
          if (activeWorkers === 0) {
            if (phase !== Phase.Stopped) endWindow();
            else if (outstanding === 0) finish(true);
          }
          return;
        }
        if (phase === Phase.Measure) {
          const ns = Math.round((performance.now() - t0) * 1e6);
          hist.record(ns > 0 ? ns : 1);
          if (++calls >= spec.maxCalls) endWindow();
        }
        if (phase === Phase.Stopped) {
          if (outstanding === 0) finish(true);
          return;
        }
        issue();
      };
      const ok = (): void => completed(undefined);
      const fail = (e: unknown): void => completed(e === undefined || e === null ? new Error("call failed") : e);
      const issue = (): void => {
        outstanding++;
        t0 = performance.now();
        try {
          if (call.kind === "callback") call.invoke(completed);
          else call.fn().then(ok, fail);
        } catch (e) {
          fail(e);
        }
      };
      issue();
    };

    for (let i = 0; i < spec.level; i++) startWorker();
  });
}
