import { performance } from "node:perf_hooks";

/*
 * How a stream shares its event loop and connection with unary calls: the
 * producer's turn lengths (StreamOutbox) and the receive window a receiver
 * lets be in flight (StreamInbox), each shorter while unary calls are made
 * beside the stream (UnaryWatch).
 */

/**
 * A producer gives the event loop a turn after sending this much: reads,
 * timers and other calls wait at most one turn behind a stream. While this
 * side also serves or makes unary calls (the wire's unaryCalls moved within
 * the last SHARED_TURNS_MS), turns are 4 KiB (at most 8 messages): 4 KiB of
 * 581-byte messages is about 50 µs of encoding, and a unary call beside a busy
 * stream waits half a turn at the median. 16 KiB turns measured a unary p50
 * 3.7x the p50 without the stream, 4 KiB turns 1.7x, for a quarter less
 * stream throughput while calls are about (docs/benchmarks.md, "Unary calls
 * beside a busy stream"). Alone, a stream keeps the long turns, whose fewer
 * flushes and event-loop rounds it would otherwise pay for.
 */
export const TURN_BYTES = 64 * 1024;
export const SHARED_TURN_BYTES = 4 * 1024;
/** Each message counts at least this toward a turn: a turn is also at most 8 messages (128 alone), however small. */
export const TURN_MESSAGE_MIN = 512;
/** Short turns last this long after the last unary call seen: a caller's next call comes a round trip later, not within one turn. */
const SHARED_TURNS_MS = 1000;

/**
 * While unary calls share the connection, a receiver lets at most this many
 * bytes of a stream be on their way or unread (instead of its whole window):
 * a unary answer sits in the same TCP byte stream behind whatever stream data
 * the sender was allowed to write before it, and the receiver must read and
 * decode all of that first. A 256 KiB window of 581-byte messages is about
 * 450 messages, 2 ms of decoding on this machine: the p99 of unary calls beside
 * a busy stream (docs/benchmarks.md). The receiver does it alone, by granting
 * back less (see StreamInbox.grant), so any sender is held to it.
 */
export const SHARED_WINDOW = 64 * 1024;

/**
 * Whether the event loop also serves unary calls beside one stream: the
 * wire's call counter moved while the stream was open, within the last
 * SHARED_TURNS_MS. Calls made before the stream opened are not news to it:
 * nobody waits behind it until the next one. A counter rather than a time
 * per call keeps the clock off the unary path (performance.now() costs about
 * 100 ns here); the clock is read only when asked, and once calls were seen.
 */
export class UnaryWatch {
  /** wire.unaryCalls when it last moved, and when (performance.now()) that was seen. */
  private seen: number;
  private seenAt = -Infinity;

  constructor(private readonly wire: { readonly unaryCalls: number }) {
    this.seen = wire.unaryCalls;
  }

  shared(): boolean {
    const calls = this.wire.unaryCalls;
    if (calls !== this.seen) {
      this.seen = calls;
      this.seenAt = performance.now();
      return true;
    }
    return this.seenAt !== -Infinity && performance.now() - this.seenAt < SHARED_TURNS_MS;
  }
}
