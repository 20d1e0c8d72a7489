/**
 * gateway suite, backend process: a goms node over TCP hosting the echo services
 * the gateway routes to (services.ts).
 */
import { createNode } from "../../../dist/rpc/index.js";
import { hostEchoServices } from "./services.js";

const node = createNode({ identity: { name: "db0" }, listen: { host: "127.0.0.1", port: 0 } });
hostEchoServices(node);
await node.start();
process.send?.({ port: node.port });
process.on("disconnect", () => void node.close({ graceMs: 0 }).then(() => process.exit(0)));
