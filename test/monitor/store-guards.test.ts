// The store's limits and the push identity rules, in-process (the process
// tests push-auth and store-limits run the same rules over real sockets).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { GomsError } from "../../src/errors/index.js";
import { NodeIdentitySchema, type NodeIdentity } from "../../src/gen/goms/v1/node_pb.js";
import type { PeerInfo } from "../../src/internal/conn/context.js";
import { createMonitorStore, DEFAULT_MONITOR_LIMITS } from "../../src/monitor/index.js";
import { checkPushIdentity } from "../../src/monitor/push-identity.js";
import { nodeStats } from "./fixtures.js";

const reasonOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof GomsError, String(e));
    return e.reason;
  }
};

const id = (name: string, host = "10.0.0.1", port = 7000): NodeIdentity => create(NodeIdentitySchema, { name, host, port });
const peer = (node: NodeIdentity | undefined, certificateCN?: string): PeerInfo => ({ address: "10.0.0.1:50000", node, local: false, certificateCN });

describe("monitor store limits", () => {
  it("documented defaults", () => {
    assert.deepEqual(DEFAULT_MONITOR_LIMITS, { maxNodes: 500, maxMethodsPerNode: 500, maxStatsBytes: 128 * 1024, maxEjectedPerNode: 64 });
  });

  it("refuses new nodes past maxNodes, keeps updating known ones", () => {
    const store = createMonitorStore({ sweepMs: 0, limits: { maxNodes: 2 } });
    store.push(nodeStats("a", { t: 1, uptime: 1 }));
    store.push(nodeStats("b", { t: 1, uptime: 1 }));
    assert.equal(reasonOf(() => store.push(nodeStats("c", { t: 1, uptime: 1 }))), "GOMS_ERR_MONITOR_TOO_MANY_NODES");
    store.push(nodeStats("a", { t: 2, uptime: 2 }));
    assert.deepEqual(
      store.nodes().map((n) => n.name),
      ["a", "b"],
    );
    store.close();
  });

  it("refuses a push with too many methods or too many bytes, and keeps nothing of it", () => {
    const store = createMonitorStore({ sweepMs: 0, limits: { maxMethodsPerNode: 3, maxStatsBytes: 2048 } });
    const methods = (n: number, name = "M") => Array.from({ length: n }, () => ({ calls: 1, method: name }));
    assert.equal(reasonOf(() => store.push(nodeStats("a", { t: 1, uptime: 1, methods: methods(4) }))), "GOMS_ERR_MONITOR_TOO_MANY_METHODS");
    assert.equal(reasonOf(() => store.push(nodeStats("a", { t: 1, uptime: 1, methods: methods(1, "x".repeat(3000)) }))), "GOMS_ERR_MONITOR_STATS_TOO_LARGE");
    assert.deepEqual(store.nodes(), []);
    store.push(nodeStats("a", { t: 1, uptime: 1, methods: methods(3) }));
    assert.equal(store.nodes().length, 1);
    store.close();
  });
});

describe("push identity", () => {
  it("a node pushes its own identity, as its HELLO declared it", () => {
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("db0")), undefined)), undefined);
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(undefined), undefined)), "GOMS_ERR_MONITOR_ANONYMOUS_PUSH");
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("")), undefined)), "GOMS_ERR_MONITOR_ANONYMOUS_PUSH");
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("evil")), undefined)), "GOMS_ERR_MONITOR_IDENTITY_MISMATCH");
    assert.equal(reasonOf(() => checkPushIdentity(id("db0", "6.6.6.6"), peer(id("db0")), undefined)), "GOMS_ERR_MONITOR_IDENTITY_MISMATCH");
    assert.equal(reasonOf(() => checkPushIdentity(id("db0", "10.0.0.1", 1), peer(id("db0")), undefined)), "GOMS_ERR_MONITOR_IDENTITY_MISMATCH");
    // In-process pushes come from the hosting node itself.
    assert.equal(reasonOf(() => checkPushIdentity(id("anything"), { address: "local", node: undefined, local: true }, undefined)), undefined);
  });

  it("with mTLS the name must be the certificate's CN", () => {
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("db0"), "db0"), undefined)), undefined);
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("db0"), "web1"), undefined)), "GOMS_ERR_MONITOR_IDENTITY_MISMATCH");
  });

  it("with a registry: registered names push their registered address; unregistered nodes claim none", () => {
    const registered = (name: string) => (name === "db0" ? id("db0") : undefined);
    assert.equal(reasonOf(() => checkPushIdentity(id("db0"), peer(id("db0")), registered)), undefined);
    assert.equal(reasonOf(() => checkPushIdentity(id("db0", "10.0.0.9"), peer(id("db0", "10.0.0.9")), registered)), "GOMS_ERR_MONITOR_NOT_REGISTERED");
    assert.equal(reasonOf(() => checkPushIdentity(id("gate0", "", 0), peer(id("gate0", "", 0)), registered)), undefined);
    assert.equal(reasonOf(() => checkPushIdentity(id("ghost"), peer(id("ghost")), registered)), "GOMS_ERR_MONITOR_NOT_REGISTERED");
  });
});
