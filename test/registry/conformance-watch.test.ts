import type { KvBackend } from "../../src/kv/backend.js";
import { createWatchClient, createWatchServer } from "../../src/watch/index.js";
import { kvConformance } from "./conformance.js";

const HISTORY = 64;

// The same conformance suite over the network: a real watch server on loopback TCP,
// each client its own connection. Watches follow with Watch streams (the
// default), and again with the older long polls that clients before streams use.
for (const watchMode of ["stream", "poll"] as const) {
  kvConformance(`watch (${watchMode})`, async () => {
    const server = await createWatchServer({ listen: { host: "127.0.0.1", port: 0 }, store: { historySize: HISTORY, leaseCheckIntervalMs: 50 } }).start();
    const url = `watch://127.0.0.1:${server.port}`;
    return {
      connect: async () => createWatchClient({ url, watchMode, pollWaitMs: 1000 }),
      forgetHistory: async (kv: KvBackend) => {
        for (let i = 0; i <= HISTORY; i++) await kv.put("forget/filler", new Uint8Array([i & 0xff]));
      },
      destroy: async () => server.close(),
    };
  });
}
