import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet } from "../helpers.js";
import { newProbe, streamImpl, type Probe } from "../streams/fixture.js";
import { createGateway, hostDb } from "../gateway/helpers.js";
import type { Gateway, GatewayOptions } from "../../src/gateway/index.js";
import type { GomsNode } from "../../src/rpc/index.js";

export interface WebEnv {
  probe: Probe;
  gw: Gateway;
  baseUrl: string;
  /** The node behind the gateway (DB and StreamTest). */
  server: GomsNode;
  /** Starts another gateway with the same node and options on `port` (after `gw` was closed, to restart it there). */
  startGateway(port: number): Promise<Gateway>;
}

/** A node hosting DB and StreamTest, a gateway node peered with it over TCP, and the gateway. */
export async function startWebEnv(nodes: NodeSet, gwOpts: Partial<GatewayOptions> = {}): Promise<WebEnv> {
  const probe = newProbe();
  const server = await nodes.start({ identity: { name: "web-backend" }, listen: { port: 0 } }, (n) => {
    hostDb(n);
    n.service(StreamTest, streamImpl(probe));
  });
  const gwNode = await nodes.start({ identity: { name: "web-gate" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  const startGateway = (port: number): Promise<Gateway> => createGateway({ node: gwNode, ...gwOpts, listen: { ...gwOpts.listen, port } }).start();
  const gw = await startGateway(gwOpts.listen?.port ?? 0);
  return { probe, gw, baseUrl: `http://127.0.0.1:${gw.port}`, server, startGateway };
}
