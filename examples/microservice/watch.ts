// The registry server of the microservice example: watch on 127.0.0.1:12345.
//   npm run example -- microservice/watch [-- --port 12345 --dir ./data]
import { parseArgs } from "node:util";
import { createWatchServer } from "../../src/watch/server.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: "12345" }, host: { type: "string", default: "127.0.0.1" }, dir: { type: "string" } },
});
const server = await createWatchServer({ listen: { host: values.host, port: Number(values.port) }, ...(values.dir ? { dir: values.dir } : {}) }).start();
console.log(`WatchServer start, host: ${values.host}:${server.port}${values.dir ? `, data in ${values.dir}` : ""}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
