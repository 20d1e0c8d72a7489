/**
 * gateway suite, gateway process: a goms node peered with the backend node and the
 * HTTP gateway in front of it (JSON -> protobuf -> RPC over TCP -> protobuf -> JSON).
 * With BENCH_DB_PORT the backend node is another process (db.ts); without it, the
 * backend node runs in this process as a second goms node, still called over loopback TCP.
 */
import { createGateway } from "../../../dist/gateway/index.js";
import { createNode } from "../../../dist/rpc/index.js";
import { hostEchoServices } from "./services.js";

let dbPort = Number(process.env["BENCH_DB_PORT"] ?? "0");
if (dbPort === 0) {
  const db = createNode({ identity: { name: "db0" }, listen: { host: "127.0.0.1", port: 0 } });
  hostEchoServices(db);
  await db.start();
  dbPort = db.port;
}
const node = createNode({ identity: { name: "gate0" }, peers: { addresses: [{ host: "127.0.0.1", port: dbPort }] } });
await node.start();
const gw = createGateway({ node });
const port = (await gw.start()).port;
process.send?.({ port });
process.on("disconnect", () => void gw.close().then(() => node.close({ graceMs: 0 })).then(() => process.exit(0)));
