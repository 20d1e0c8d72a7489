/**
 * Coalesces RPC sends under load. HTTP requests arrive one socket read at a
 * time, each followed by a microtask flush, so a goms connection would write one
 * frame per request. While other requests are in flight, the gateway defers the
 * send to setImmediate: every request parsed in the same event-loop turn is then
 * sent in one synchronous run, and goms writes their frames with one syscall.
 * An idle gateway sends at once (the caller checks), adding no latency.
 */
export class CallBatch {
  private queue: Array<() => void> = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const f of q) f();
  };

  /** Runs `send` at the end of this event-loop turn, with the others submitted in it. */
  submit(send: () => void): void {
    this.queue.push(send);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }
}
