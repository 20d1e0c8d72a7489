import { isInternalService, type GomsNode } from "../rpc/index.js";

/** The body of GET /readyz. */
export interface Readiness {
  status: "ready" | "not_ready";
  /** Backend nodes known: registered in the registry or dialled. */
  nodes: number;
  /** Per service the gateway can route to: how many nodes serving it are ready for calls now. */
  services: Record<string, number>;
}

/**
 * Whether every route of the gateway has a backend that can take a call now.
 *
 * The routes are the public services of the known nodes: those registered in
 * the registry, and the peers dialled (a static peer stays known after it
 * disconnects, so its services count 0 until it is back; a node that left the
 * registry is forgotten with its services). A backend serves a service when
 * its connection is ready; services the gateway's own node hosts count it.
 * Ready when there is at least one node, every service has a backend, and the
 * gateway is not draining.
 */
export function readiness(node: GomsNode, draining: boolean): Readiness {
  const names = new Set<string>();
  const services = new Map<string, number>();
  const know = (svc: string, ready: number): void => {
    if (!isInternalService(svc)) services.set(svc, (services.get(svc) ?? 0) + ready);
  };
  for (const [name, reg] of node.discovered()) {
    names.add(name);
    for (const s of reg.node?.services ?? []) know(s, 0);
  }
  for (const p of node.peerList()) {
    if (p.identity === undefined) continue;
    names.add(p.identity.name);
    const up = p.state === "ready" ? 1 : 0;
    for (const s of p.identity.services) know(s, up);
  }
  for (const s of node.hostedServices()) if (!s.internal) know(s.desc.typeName, 1);
  let ready = names.size > 0 && !draining;
  for (const n of services.values()) if (n === 0) ready = false;
  const sorted = [...services.keys()].sort();
  return { status: ready ? "ready" : "not_ready", nodes: names.size, services: Object.fromEntries(sorted.map((s) => [s, services.get(s)!])) };
}
