/**
 * The overload bench's server: one goms node whose handler burns a fixed
 * amount of CPU (a busy loop of COST_MS). OVERLOAD_MODE=on runs with the
 * node's default admission (adaptive concurrency limit, deadline-aware
 * refusal); off turns both off. Runs the built package (dist/).
 */
import { AddServer } from "../../../examples/gen/goms/examples/v1/add_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { burn, serverWindow } from "./open-loop.js";

const port = Number(process.env.OVERLOAD_PORT);
const costMs = Number(process.env.OVERLOAD_COST_MS ?? "1");
const on = process.env.OVERLOAD_MODE !== "off";
const node = createNode({
  identity: { name: "overload-server" },
  listen: { host: "127.0.0.1", port },
  // OVERLOAD_LIMITER: JSON of limits.adaptiveConcurrency settings to try (e.g. {"slackMs":1}); the defaults otherwise.
  limits: on ? { adaptiveConcurrency: JSON.parse(process.env.OVERLOAD_LIMITER ?? "{}") as Record<string, number> } : { adaptiveConcurrency: false, deadlineAdmission: false },
});
const win = serverWindow();
node.service(AddServer, {
  add(req: { a: number; b: number }) {
    win.onCall();
    burn(costMs);
    return { sum: req.a + req.b };
  },
});
await node.start();
process.on("disconnect", () => process.exit(0));
process.on("message", (m: { type?: string }) => {
  if (m.type === "stats") process.send?.({ type: "stats", admission: node.stats().admission, window: win.result() });
  if (m.type === "close") void node.close({ graceMs: 0 }).then(() => process.exit(0));
});
process.send?.({ type: "ready" });
