import { etcdKv } from "../../src/registry/etcd.js";
import type { KvBackend } from "../../src/kv/backend.js";
import { kvConformance } from "./conformance.js";
import { startEtcd } from "./etcd-server.js";

kvConformance("etcd", async () => {
  const server = await startEtcd();
  // A separate admin client does the compaction (not part of KvBackend).
  const { Etcd3 } = await import("etcd3");
  const admin = new Etcd3({ hosts: server.endpoint });
  return {
    connect: async () => etcdKv({ endpoints: [server.endpoint] }),
    forgetHistory: async (kv: KvBackend) => {
      const rev = await kv.put("forget/marker", new Uint8Array([1]));
      await admin.kv.compact({ revision: String(rev), physical: true });
    },
    destroy: async () => {
      admin.close();
      await server.destroy();
    },
  };
});
