import { GomsError } from "../errors/goms-error.js";
import type { ServerCall } from "../internal/conn/server-call.js";
import type { RoutedMethod } from "./client-method.js";
import { channels, type CallEvent } from "./diagnostics.js";
import type { CallResult } from "./types.js";

/** Publishes one client call on goms:rpc:client (only with subscribers). */
export function reportClientCall(node: string, rm: RoutedMethod, code: number, ret: number, started: number): void {
  if (!channels.client.hasSubscribers) return;
  const ev: CallEvent = { side: "client", node, service: rm.service, method: rm.method, code, ret, durationMs: performance.now() - started, peer: "" };
  channels.client.publish(ev);
}

/** Reports an in-process call when it settles (network calls are reported by their connection). */
export function traceClientCall(node: string, p: Promise<unknown>, rm: RoutedMethod, started: number, full: boolean): Promise<unknown> {
  return p.then(
    (v) => {
      reportClientCall(node, rm, 0, full ? (v as CallResult<unknown>).ret : 0, started);
      return v;
    },
    (e: unknown) => {
      const g = GomsError.from(e);
      reportClientCall(node, rm, g.code, g.ret, started);
      throw g;
    },
  );
}

/** Every served call ends here (network and in-process): goms:rpc:server. */
export function reportServedCall(node: string, call: ServerCall, err: GomsError | undefined, startedAt: number): void {
  if (!channels.server.hasSubscribers) return;
  const ev: CallEvent = {
    side: "server",
    node,
    service: call.service.typeName,
    method: call.method.name,
    code: err === undefined ? 0 : err.code,
    ret: err === undefined ? call.ret : err.ret || call.ret,
    durationMs: performance.now() - startedAt,
    peer: call.peer.address,
  };
  channels.server.publish(ev);
}
