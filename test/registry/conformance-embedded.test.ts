import { embeddedKv } from "../../src/kv/embedded.js";
import type { KvBackend } from "../../src/kv/backend.js";
import { createStore } from "../../src/watch/index.js";
import { kvConformance } from "./conformance.js";

const HISTORY = 64;

kvConformance("embedded", async () => {
  // One store shared by every client, as a server would share it.
  const store = createStore({ historySize: HISTORY, leaseCheckIntervalMs: 50 });
  return {
    connect: async () => embeddedKv(store),
    forgetHistory: async (kv: KvBackend) => {
      // The history is a ring of HISTORY events: push the old ones out.
      for (let i = 0; i <= HISTORY; i++) await kv.put("forget/filler", new Uint8Array([i & 0xff]));
    },
    destroy: async () => store.close(),
  };
});
