/**
 * Throughput driver for server streams, run inside a client process.
 *
 * `level` streams are opened at once and left running; the driver only counts
 * the messages they deliver. Phases are timer-driven like runLoad's (warmup ->
 * measured window -> cancel and drain), so a stalled target cannot stall the
 * run: the window ends on time, every stream is canceled, and the drain gives
 * up after `drainMs`. A "call" in the returned stats is one message received.
 */
import { performance } from "node:perf_hooks";
import { cpuNow, type WindowHooks } from "./load.js";
import type { ClientStats, LevelSpec } from "./protocol.js";
import { errorMessage } from "./protocol.js";

/** Receives one stream's events. `end` is called once, with undefined when the stream ended normally. */
export interface StreamSink {
  message(): void;
  end(err: unknown): void;
}

/** A server stream the driver can open: `open` starts one stream feeding `sink` and returns its cancel. */
export interface StreamCall {
  kind: "stream";
  open(sink: StreamSink): () => void;
}

export function runStreamLoad(call: StreamCall, spec: LevelSpec, hooks: WindowHooks = {}): Promise<ClientStats> {
  return new Promise((resolve) => {
    let measuring = false;
    let stopped = false;
    let messages = 0;
    let errors = 0;
    let firstError: string | undefined;
    let live = 0;
    let windowStart = 0;
    let elapsedMs = 0;
    let cpuStart = 0;
    let cpuUs = 0;
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const cancels: Array<() => void> = [];

    const finish = (drained: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(warmupTimer);
      clearTimeout(windowTimer);
      clearTimeout(drainTimer);
      const stats: ClientStats = {
        level: spec.level,
        calls: messages,
        errors,
        elapsedMs,
        qps: elapsedMs > 0 ? (messages * 1000) / elapsedMs : 0,
        p50Us: 0,
        p99Us: 0,
        meanUs: 0,
        maxUs: 0,
        cpuUs,
        cpuUsPerCall: messages > 0 ? cpuUs / messages : 0,
        drained,
      };
      if (firstError !== undefined) stats.firstError = firstError;
      resolve(stats);
    };

    const startWindow = (): void => {
      if (measuring || stopped) return;
      hooks.onWindow?.("start");
      measuring = true;
      messages = 0;
      cpuStart = cpuNow();
      windowStart = performance.now();
      windowTimer = setTimeout(endWindow, spec.durationMs);
    };

    const endWindow = (): void => {
      if (stopped) return;
      if (!measuring) startWindow(); // every stream ended during the warmup: an empty window
      stopped = true;
      measuring = false;
      elapsedMs = performance.now() - windowStart;
      cpuUs = cpuNow() - cpuStart;
      hooks.onWindow?.("end");
      for (const cancel of cancels) cancel();
      if (live === 0) finish(true);
      else drainTimer = setTimeout(() => finish(false), spec.drainMs);
    };

    const warmupTimer = setTimeout(startWindow, spec.warmupMs);
    let windowTimer: NodeJS.Timeout | undefined;

    for (let i = 0; i < spec.level; i++) {
      let ended = false;
      live++;
      const sink: StreamSink = {
        message: () => {
          if (measuring && ++messages >= spec.maxCalls) endWindow();
        },
        end: (err) => {
          if (ended) return;
          ended = true;
          live--;
          // After the window every stream is canceled on purpose: how it ends does not matter then.
          if (!stopped) {
            errors++;
            firstError ??= err === undefined ? "stream ended before the window did" : errorMessage(err);
            if (live === 0) endWindow();
          } else if (live === 0) finish(true);
        },
      };
      try {
        cancels.push(call.open(sink));
      } catch (e) {
        sink.end(e);
      }
    }
  });
}

/** Which measurement a stream-suite client runs: BENCH_STREAM_MODE, set by bench/suites/stream.ts. */
export type StreamMode = "throughput" | "pingpong";

export function streamMode(): StreamMode {
  const m = process.env["BENCH_STREAM_MODE"];
  if (m !== "throughput" && m !== "pingpong") throw new Error(`BENCH_STREAM_MODE must be throughput or pingpong, not ${String(m)}`);
  return m;
}

/** Messages in the short stream every stream client checks before it is measured. */
export const CHECK_STREAM_COUNT = 3;
