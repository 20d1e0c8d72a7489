/**
 * Bidi ping-pong for the stream suite: each call sends one message on a bidi
 * stream and waits for its answer. Calls borrow an idle stream from a pool
 * (opening one when none is idle), so runLoad's `level` calls in flight use
 * `level` streams and the latency measured is one message's round trip.
 */
import type { Call } from "./load.js";

/** One open bidi stream: send a message, resolve with the answer. */
export interface PingPongLink {
  roundTrip(message: unknown): Promise<unknown>;
  close(): void;
}

export function pingPongCalls(open: () => PingPongLink, message: unknown): { call: Call & { kind: "promise" }; close(): void } {
  const idle: PingPongLink[] = [];
  const all = new Set<PingPongLink>();
  const fn = async (): Promise<unknown> => {
    let link = idle.pop();
    if (link === undefined) {
      link = open();
      all.add(link);
    }
    const res = await link.roundTrip(message);
    // A link whose round trip failed is not reused: runLoad stops that worker anyway.
    idle.push(link);
    return res;
  };
  return {
    call: { kind: "promise", fn },
    close: () => {
      for (const l of all) l.close();
    },
  };
}

/** A single-consumer AsyncIterable the caller pushes into: the request side of a bidi stream. */
export class PushIterable<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;

  push(v: T): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w({ done: false, value: v });
    } else this.items.push(v);
  }

  end(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ done: false, value: this.items.shift() as T });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
