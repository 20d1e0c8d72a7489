/**
 * The overload bench's load generator for goms, a process of its own: the
 * open loop of ./open-loop.ts over a goms client. Refusals are
 * resource_exhausted (8), deadline misses deadline_exceeded (4).
 */
import { AddServer } from "../../../examples/gen/goms/examples/v1/add_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { loadFromEnv, runLoad } from "./open-loop.js";

const port = Number(process.env.OVERLOAD_PORT);
const node = createNode({ identity: { name: "overload-loadgen" }, peers: { addresses: [{ host: "127.0.0.1", port }] } });
await node.start();
await node.waitForPeer(5000);
const add = node.client(AddServer);
const code = (e: unknown): unknown => (e as { code?: unknown }).code;
const r = await runLoad(
  (timeoutMs) => add.add({ a: 1, b: 2 }, { timeoutMs }),
  (e) => (code(e) === 8 ? "refused" : code(e) === 4 ? "timedOut" : "other"),
  loadFromEnv(),
);
process.send?.({ type: "result", ...r });
await node.close({ graceMs: 0 });
process.exit(0);
