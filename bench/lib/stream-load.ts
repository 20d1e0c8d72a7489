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
  /**
   * Told when the measured window starts (before the parent hears of it) and
   * ends (after the parent heard of it, before the streams are canceled): the
   * stalled-reader client stops reading for exactly the window.
   */
  onWindow?(edge: "start" | "end"): void;
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
      call.onWindow?.("start");
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
      call.onWindow?.("end");
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

/**
 * Which measurement a stream-suite client runs: BENCH_STREAM_MODE, set by
 * bench/suites/stream.ts (and stream-stall.ts). "stall" is one throughput
 * stream whose reader stops for the measured window.
 */
export type StreamMode = "throughput" | "pingpong" | "stall";
const STREAM_MODES: readonly StreamMode[] = ["throughput", "pingpong", "stall"];

export function streamMode(): StreamMode {
  const m = process.env["BENCH_STREAM_MODE"];
  const mode = STREAM_MODES.find((x) => x === m);
  if (mode === undefined) throw new Error(`BENCH_STREAM_MODE must be one of ${STREAM_MODES.join(", ")}, not ${String(m)}`);
  return mode;
}

/**
 * The stalled reader's gate, for clients that pull (`for await`): `wait()` is
 * undefined while reading is allowed, and during the window a promise that
 * resolves when the window ends. `onWindow` is the StreamCall hook.
 */
export function stallGate(): { onWindow(edge: "start" | "end"): void; wait(): Promise<void> | undefined } {
  let gate: Promise<void> | undefined;
  let release = (): void => {};
  return {
    onWindow: (edge) => {
      if (edge === "start") {
        gate = new Promise<void>((r) => (release = r));
      } else {
        gate = undefined;
        release();
      }
    },
    wait: () => gate,
  };
}

/** Messages in the short stream every stream client checks before it is measured. */
export const CHECK_STREAM_COUNT = 3;
