/** Moleculer broker options shared by both sides: TCP transporter, no UDP discovery, static urls, JSON. */
import type { BrokerOptions } from "moleculer";
import type { TargetConfig } from "../../lib/protocol.js";

export const SERVER_NODE = "bench-server";
export const CLIENT_NODE = "bench-client";

export function brokerOptions(cfg: TargetConfig, nodeID: string): BrokerOptions {
  const [serverPort, clientPort] = cfg.ports;
  if (serverPort === undefined || clientPort === undefined) throw new Error("moleculer target needs two ports");
  return {
    nodeID,
    namespace: "goms-bench",
    logger: false,
    serializer: "JSON",
    transporter: {
      type: "TCP",
      options: {
        udpDiscovery: false,
        urls: [`${cfg.host}:${serverPort}/${SERVER_NODE}`, `${cfg.host}:${clientPort}/${CLIENT_NODE}`],
      },
    },
  };
}
