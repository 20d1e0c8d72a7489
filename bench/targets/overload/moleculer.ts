/**
 * Moleculer under the overload bench's load, both sides in one file (they
 * share the broker options): OVERLOAD_SIDE=server is a broker whose action
 * `overload.add` burns the same fixed CPU as the goms server, behind
 * Moleculer's bulkhead at its documented defaults (concurrency 10, queue 100;
 * QueueIsFullError past them); OVERLOAD_SIDE=client is the open loop of
 * ./open-loop.ts calling it with the call's timeout. Refusals are
 * QUEUE_FULL (429), deadline misses REQUEST_TIMEOUT (504).
 */
import { ServiceBroker, type Context } from "moleculer";
import { CLIENT_NODE, SERVER_NODE, brokerOptions } from "../moleculer/broker.js";
import { burn, loadFromEnv, runLoad, serverWindow } from "./open-loop.js";

const cfg = { host: "127.0.0.1", ports: [Number(process.env.OVERLOAD_PORT), Number(process.env.OVERLOAD_CLIENT_PORT)] };
const costMs = Number(process.env.OVERLOAD_COST_MS ?? "1");
const BULKHEAD = { enabled: true, concurrency: 10, maxQueueSize: 100 };

if (process.env.OVERLOAD_SIDE === "server") {
  const broker = new ServiceBroker({ ...brokerOptions(cfg, SERVER_NODE), bulkhead: BULKHEAD });
  const win = serverWindow();
  broker.createService({
    name: "overload",
    actions: {
      add(ctx: Context<{ a: number; b: number }>): { sum: number } {
        win.onCall();
        burn(costMs);
        return { sum: ctx.params.a + ctx.params.b };
      },
    },
  });
  await broker.start();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: { type?: string }) => {
    if (m.type === "stats") process.send?.({ type: "stats", admission: { limit: BULKHEAD.concurrency }, window: win.result() });
    if (m.type === "close") void broker.stop().then(() => process.exit(0));
  });
  process.send?.({ type: "ready" });
} else {
  const broker = new ServiceBroker(brokerOptions(cfg, CLIENT_NODE));
  await broker.start();
  await broker.waitForServices("overload", 20_000);
  const code = (e: unknown): unknown => (e as { code?: unknown }).code;
  const r = await runLoad(
    (timeout) => broker.call("overload.add", { a: 1, b: 2 }, { timeout }),
    (e) => (code(e) === 429 ? "refused" : code(e) === 504 ? "timedOut" : "other"),
    loadFromEnv(),
  );
  process.send?.({ type: "result", ...r });
  await broker.stop();
  process.exit(0);
}
