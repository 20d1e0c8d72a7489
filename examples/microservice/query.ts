// Node query0 of the microservice example: every interval, DB.Update(a, n) then DB.Query(a), logged;
// meanwhile it follows key a with DB.Watch (a server stream) and logs each change.
//   npm run example -- microservice/query [-- --interval 1000 --registry watch://127.0.0.1:12345]
//   (interval also from GOMS_QUERY_INTERVAL_MS; default 10000 ms as in the Go version)
import { parseArgs } from "node:util";
import { createNode } from "../../src/rpc/index.js";
import { Code, GomsError } from "../../src/errors/index.js";
import { DB } from "../gen/goms/examples/v1/db_pb.js";
import { openRegistry, registryUrl } from "../shared/registry-arg.js";
import { createMonitoring } from "../../src/monitor/index.js";
import { resumeStream } from "../../src/web/index.js";

const { values } = parseArgs({
  options: {
    interval: { type: "string" },
    port: { type: "string", default: "10002" },
    host: { type: "string", default: "127.0.0.1" },
    registry: { type: "string" },
  },
});
const intervalMs = Number(values.interval ?? process.env["GOMS_QUERY_INTERVAL_MS"] ?? 10_000);
const { kv, registry } = await openRegistry(registryUrl(values.registry));
// GOMS_TOKEN: the admin node's token, so stats pushes to `goms admin` are accepted.
const token = process.env["GOMS_TOKEN"];
const node = createNode({ identity: { name: "query0", id: 1 }, listen: { host: values.host, port: Number(values.port) }, discovery: { registry }, ...(token ? { auth: { peerToken: token } } : {}) });
await node.start();
// Push stats to the admin console (goms admin) every 5 s, when one is running.
const monitoring = await createMonitoring({ node, intervalMs: Number(process.env["GOMS_MONITOR_INTERVAL_MS"] ?? 5000) }).start();
console.log(`query0 on ${values.host}:${node.port}, querying DB every ${intervalMs} ms`);
const db = node.detailedClient(DB);
const everyDb = node.broadcast(DB);
// Follow key "a": its current value, then every change. A stream lives on one db node: when that
// node goes away (unavailable) or this watcher fell behind (resource_exhausted), the stream ends,
// and resumeStream watches again (on any db node), waiting longer after each failure in a row.
// DB.Watch starts with the current value, so the same request picks up where the last one ended.
const watching = new AbortController();
const changes = resumeStream(node.client(DB).watch, () => ({ key: "a" }), {
  signal: watching.signal,
  call: { timeoutMs: 0 },
  initialDelayMs: 500,
  retryable: (e) => e.code === Code.Unavailable || e.code === Code.ResourceExhausted,
  onRetry: ({ error, delayMs }) => console.log(`Watch ended: ${error.message}; watching again in ${delayMs} ms`),
});
void (async () => {
  try {
    for await (const c of changes) console.log(`Watch [key=${c.key} value=${c.value} version=${c.version}]`);
  } catch (err) {
    if (!watching.signal.aborted) console.log(`Watch failed: ${GomsError.from(err).message}`);
  }
})();
let n = 0;
const timer = setInterval(() => {
  n++;
  void (async () => {
    try {
      // Every db node keeps its own map: Update goes to all of them (broadcast), and
      // Query is load-balanced. Query is idempotent, so a db node that dies
      // mid-call is retried on another within the deadline.
      const updated = await everyDb.update({ key: "a", value: String(n) }, { timeoutMs: 2000 });
      const failed = updated.filter((u) => !u.ok);
      if (updated.length === 0) throw new GomsError("no db node is available", Code.Unavailable);
      for (const f of failed) if (!f.ok) console.log(`Update on ${f.node} failed: ${f.error.message}`);
      const r = await db.query({ key: "a" }, { timeoutMs: 2000 });
      console.log(`Query [value=${r.message.value}] from ${r.metadata["x-node"] ?? "db"}`);
    } catch (err) {
      console.log(`Query failed: ${GomsError.from(err).message}`);
    }
  })();
}, intervalMs);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    clearInterval(timer);
    watching.abort();
    void monitoring
      .close()
      .then(() => node.close({ graceMs: 2000 }))
      .then(() => kv.close())
      .then(() => process.exit(0));
  });
}
