// The whole system on the embedded default, in one process: registry, node db0
// (DB, AddServer), the HTTP gateway on 127.0.0.1:8091 and the admin console on
// 127.0.0.1:8092.
//   npm run demo [-- --http-port 8091 --admin-port 8092 --port 10001 --once]
// --once makes the demo calls, prints them and exits instead of serving until Ctrl-C.
import { parseArgs } from "node:util";
import { runDemo } from "./demo.js";

const { values } = parseArgs({
  options: {
    "http-port": { type: "string", default: "8091" },
    "admin-port": { type: "string", default: "8092" },
    port: { type: "string", default: "10001" },
    once: { type: "boolean", default: false },
  },
});
const port = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name}: not a port: ${v}`);
    process.exit(2);
  }
  return n;
};
await runDemo({
  httpPort: port("http-port", values["http-port"]),
  adminPort: port("admin-port", values["admin-port"]),
  port: port("port", values.port),
  once: values.once,
  out: (line) => console.log(line),
}).catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
