import { create } from "@bufbuild/protobuf";
import { NodeService, PingRequestSchema } from "../gen/goms/v1/node_pb.js";
import { GomsError } from "../errors/goms-error.js";
import { isNodeFailure } from "../internal/health/peer-health.js";
import { CallRequest } from "./call-request.js";
import { routedMethod } from "./client-method.js";
import type { Peer } from "./peer.js";

const ping = routedMethod(NodeService.method.ping);

/**
 * Probes an ejected peer with a NodeService.Ping rather than a caller's call,
 * so no real call waits on a node that may still hang. Any answer but a node
 * failure passes (a refusal says the node is busy, not hung); a peer with no
 * ready connection fails.
 */
export async function probePeer(peer: Peer, timeoutMs: number): Promise<boolean> {
  const conn = peer.conn;
  if (conn === undefined || !conn.ready) return false;
  const req = new CallRequest(ping, create(PingRequestSchema), timeoutMs, undefined, undefined, peer.name, undefined, false, false);
  try {
    await conn.call(req, timeoutMs, false);
    return true;
  } catch (err) {
    return !isNodeFailure(GomsError.from(err));
  }
}
