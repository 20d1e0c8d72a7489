import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet } from "../helpers.js";
import { newProbe, streamImpl, type Probe } from "../streams/fixture.js";
import { createGateway, hostDb } from "../gateway/helpers.js";
import type { Gateway, GatewayOptions } from "../../src/gateway/index.js";

export interface WebEnv {
  probe: Probe;
  gw: Gateway;
  baseUrl: string;
}

/** A node hosting DB and StreamTest, a gateway node peered with it over TCP, and the gateway. */
export async function startWebEnv(nodes: NodeSet, gwOpts: Partial<GatewayOptions> = {}): Promise<WebEnv> {
  const probe = newProbe();
  const server = await nodes.start({ identity: { name: "web-backend" }, listen: { port: 0 } }, (n) => {
    hostDb(n);
    n.service(StreamTest, streamImpl(probe));
  });
  const gwNode = await nodes.start({ identity: { name: "web-gate" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  const gw = await createGateway({ node: gwNode, ...gwOpts }).start();
  return { probe, gw, baseUrl: `http://127.0.0.1:${gw.port}` };
}
