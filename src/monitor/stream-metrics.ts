import type { Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { nodeCounter } from "./node-metric.js";

/**
 * The streams each node served and made (docs/streams.md, "Watching
 * streams"), read from `node.stats().streams` at scrape time, one series per
 * node. `goms_stream_window_waits_total` climbing against
 * `goms_stream_messages_total{direction="sent"}` means consumers are slower
 * than producers, and flow control is holding the producers back.
 */
export function streamMetrics(nodes: readonly GomsNode[]): Metric[] {
  return [
    nodeCounter(nodes, "streams", {
      name: "goms_streams_opened_total",
      help: "Streams opened since start (served and made, over the network and in-process), by node.",
      value: (s) => s.opened,
    }),
    nodeCounter(nodes, "streams", {
      name: "goms_stream_messages_total",
      help: "Stream messages since start, by node and direction (sent, received); an in-process message counts both.",
      by: "direction",
      value: (s) => ({ sent: s.sent, received: s.received }),
    }),
    nodeCounter(nodes, "streams", {
      name: "goms_stream_window_waits_total",
      help: "Stream messages whose send waited for the receiver (window credit, the connection's output, or an in-process queue) since start, by node.",
      value: (s) => s.windowWaits,
    }),
  ];
}
