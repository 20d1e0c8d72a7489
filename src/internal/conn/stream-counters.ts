/**
 * What a node's streams did since it started, summed over its connections
 * and its in-process streams (`node.stats().streams`). One object per node,
 * shared by everything that carries its streams and bumped in place on the
 * message path: a field increment per message, no allocation, no clock.
 */
export interface StreamCounters {
  /** Streams opened: served by this node and made by it (an in-process stream counts once). */
  opened: number;
  /** Stream messages this node sent: what its handlers yielded and what its callers sent. */
  sent: number;
  /** Stream messages this node received and decoded (in-process: each message that crossed counts sent and received). */
  received: number;
  /**
   * Sends that had to wait for the receiver: for window credit, for the
   * connection's output to drain, or for room in an in-process stream's
   * queue. It climbs while consumers are slower than producers, which is
   * flow control doing its job, and is the first number to look at when a
   * stream is slower than expected.
   */
  windowWaits: number;
}

export function newStreamCounters(): StreamCounters {
  return { opened: 0, sent: 0, received: 0, windowWaits: 0 };
}
