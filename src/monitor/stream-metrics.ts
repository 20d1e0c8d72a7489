import { Counter, type Metric } from "prom-client";
import type { GomsNode } from "../rpc/node.js";
import { eachNode } from "./admission-metrics.js";

/**
 * The streams each node served and made (docs/streams.md, "Watching
 * streams"), read from `node.stats().streams` at scrape time, one series per
 * node. `goms_stream_window_waits_total` climbing against
 * `goms_stream_messages_total{direction="sent"}` means consumers are slower
 * than producers, and flow control is holding the producers back.
 */
export function streamMetrics(nodes: readonly GomsNode[]): Metric[] {
  const each = eachNode(nodes, "streams");
  return [
    new Counter<"node">({
      name: "goms_streams_opened_total",
      help: "Streams opened since start (served and made, over the network and in-process), by node.",
      labelNames: ["node"],
      registers: [],
      collect() {
        this.reset();
        each((n, s) => this.inc({ node: n.name }, s.opened));
      },
    }),
    new Counter<"node" | "direction">({
      name: "goms_stream_messages_total",
      help: "Stream messages since start, by node and direction (sent, received); an in-process message counts both.",
      labelNames: ["node", "direction"],
      registers: [],
      collect() {
        this.reset();
        each((n, s) => {
          this.inc({ node: n.name, direction: "sent" }, s.sent);
          this.inc({ node: n.name, direction: "received" }, s.received);
        });
      },
    }),
    new Counter<"node">({
      name: "goms_stream_window_waits_total",
      help: "Stream messages whose send waited for the receiver (window credit, the connection's output, or an in-process queue) since start, by node.",
      labelNames: ["node"],
      registers: [],
      collect() {
        this.reset();
        each((n, s) => this.inc({ node: n.name }, s.windowWaits));
      },
    }),
  ];
}
