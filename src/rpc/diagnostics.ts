import diagnostics_channel from "node:diagnostics_channel";

/**
 * Observability hooks. Subscribe with diagnostics_channel.subscribe(name, fn).
 * Messages are only built when a channel has subscribers.
 */
export const channels = {
  /** Every call a node served: CallEvent with side "server". */
  server: diagnostics_channel.channel("goms:rpc:server"),
  /** Every call a node made (network or in-process): CallEvent with side "client". */
  client: diagnostics_channel.channel("goms:rpc:client"),
  /** Peer connection changes: PeerEvent. */
  peer: diagnostics_channel.channel("goms:rpc:peer"),
} as const;

export interface CallEvent {
  side: "client" | "server";
  /** Local node name. */
  node: string;
  /** Fully-qualified service name. */
  service: string;
  method: string;
  /** 0 for success, otherwise the error Code. */
  code: number;
  ret: number;
  durationMs: number;
  /** Remote address, or "local" for in-process calls. */
  peer: string;
}

export interface PeerEvent {
  node: string;
  peer: string;
  address: string;
  state: "connected" | "disconnected";
  reason?: string;
}
