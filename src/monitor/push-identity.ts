import { gomsError } from "../errors/reasons.js";
import type { NodeIdentity } from "../gen/goms/v1/node_pb.js";
import type { PeerInfo } from "../internal/conn/context.js";

/** What a node's registration says about it (NodeRegistration.node), by name; undefined when not registered. */
export type RegisteredIdentity = (name: string) => NodeIdentity | undefined;

/** Names and hosts in messages are cut: the pusher chose them, and they can be long. */
export const cut = (s: string): string => (s.length > 128 ? `${s.slice(0, 128)}...` : s);
const addr = (n: NodeIdentity): string => `${cut(n.host)}:${n.port}${n.outerHost ? ` (outer ${cut(n.outerHost)})` : ""}`;

/**
 * Refuses a stats push that is not about the node that sent it.
 *
 * Who may push at all is the rpc layer's business: the node hosting the
 * monitor service requires a token (auth.token) or a client certificate
 * (mTLS), so only cluster members get this far. Among members, a push may
 * only describe the pusher itself, or a compromised or buggy node could
 * invent nodes, or show a real node at an address it does not have:
 * - the pushed identity must be the one the connection's HELLO declared
 *   (name, id, host, port, outer host);
 * - with mTLS, the name must be the verified certificate's CN, the only
 *   identity a token holder cannot choose;
 * - with a registry, a registered name must push the registered address,
 *   and a node that is not registered (a pure client) may claim no address.
 * In-process pushes (the hosting node itself) are trusted.
 */
export function checkPushIdentity(pushed: NodeIdentity, peer: PeerInfo, registered: RegisteredIdentity | undefined): void {
  if (peer.local) return;
  const hello = peer.node;
  if (hello === undefined || hello.name === "") throw gomsError("GOMS_ERR_MONITOR_ANONYMOUS_PUSH");
  const mismatch = (why: string): Error => gomsError("GOMS_ERR_MONITOR_IDENTITY_MISMATCH", { peer: cut(hello.name), pushed: cut(pushed.name), why });
  if (pushed.name !== hello.name) throw mismatch("the name differs from the connection's HELLO");
  if (peer.certificateCN !== undefined && peer.certificateCN !== pushed.name) throw mismatch(`the client certificate is for ${cut(peer.certificateCN)}`);
  if (pushed.id !== hello.id || pushed.host !== hello.host || pushed.port !== hello.port || pushed.outerHost !== hello.outerHost) {
    throw mismatch(`its HELLO said id ${hello.id} at ${addr(hello)}, the push says id ${pushed.id} at ${addr(pushed)}`);
  }
  if (registered === undefined) return;
  const reg = registered(pushed.name);
  if (reg === undefined) {
    if (pushed.port !== 0) throw gomsError("GOMS_ERR_MONITOR_NOT_REGISTERED", { node: cut(pushed.name), why: `it claims the address ${addr(pushed)} but is not registered` });
    return;
  }
  if (reg.host !== pushed.host || reg.port !== pushed.port || reg.outerHost !== pushed.outerHost) {
    throw gomsError("GOMS_ERR_MONITOR_NOT_REGISTERED", { node: cut(pushed.name), why: `it is registered at ${addr(reg)}, not ${addr(pushed)}` });
  }
}
