/**
 * gateway suite, gateway process: a goms node peered with the DB process and the
 * HTTP gateway in front of it (JSON -> protobuf -> RPC over TCP -> protobuf -> JSON).
 */
import { createGateway } from "../../../src/gateway/index.js";
import { createNode } from "../../../src/rpc/index.js";

const dbPort = Number(process.env["BENCH_DB_PORT"]);
const node = createNode({ name: "gate0", peers: [{ host: "127.0.0.1", port: dbPort }] });
await node.start();
const gw = createGateway({ node });
const port = await gw.listen(0, "127.0.0.1");
process.send?.({ port });
process.on("disconnect", () => void gw.close().then(() => node.close({ graceMs: 0 })).then(() => process.exit(0)));
