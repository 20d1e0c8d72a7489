/** goms RPC echo server; with GOMS_BENCH_MONITOR=1 (default) monitoring is on: the bench server also hosts the admin store (MonitorService) and pushes to itself. */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { MonitorService } from "../../../dist/gen/goms/v1/monitor_pb.js";
import { createMonitorStore } from "../../../dist/monitor/index.js";
import { createNode } from "../../../dist/rpc/index.js";
import { serveTarget, serverPort } from "../../lib/target.js";
import { enableMonitoring, monitoringOn } from "./monitoring.js";

await serveTarget(async (cfg) => {
  let count = 0;
  const store = createMonitorStore();
  const node = createNode({ identity: { name: "bench-server" }, listen: { host: cfg.host, port: serverPort(cfg) } });
  node.service(BenchService, {
    echo(req) {
      count++;
      req.field1 = "OK";
      req.field2 = 100;
      return req;
    },
  });
  if (monitoringOn) node.service(MonitorService, store.service());
  await node.start();
  const stop = enableMonitoring(node, "bench-server");
  return {
    count: () => count,
    close: async () => {
      stop();
      store.close();
      await node.close();
    },
  };
});
