import type { InstanceEvent } from "./manager.js";

/** One line for an instance event, e.g. "worker 1 (pid 42) exited with SIGKILL"; `noun` names the copies. */
export function describeInstanceEvent(e: InstanceEvent, noun = "instance"): string {
  switch (e.type) {
    case "started":
      return `${noun} ${e.index} started (pid ${e.pid})`;
    case "exited":
      return `${noun} ${e.index} (pid ${e.pid}) exited with ${e.signal ?? `code ${String(e.code)}`}`;
    case "restarting":
      return `${noun} ${e.index} restarting in ${e.inMs} ms (attempt ${e.attempt})`;
    case "failed":
      return `${noun} ${e.index} gave up after ${e.attempts} crashes in a row`;
  }
}
