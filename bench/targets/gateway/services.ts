/**
 * gateway suite, the services behind the gateway: goms.examples.v1.DB whose Query
 * echoes the key back as the value (the small body), and goms.bench.v1.BenchService
 * whose Echo sets field1/field2 and returns the message (the 1,050-byte body).
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { DB } from "../../../examples/gen/goms/examples/v1/db_pb.js";
import type { GomsNode } from "../../../dist/rpc/index.js";

export function hostEchoServices(node: GomsNode): void {
  node.service(DB, { query: (req) => ({ value: req.key }), update: () => ({}) });
  node.service(BenchService, {
    echo(req) {
      req.field1 = "OK";
      req.field2 = 100;
      return req;
    },
  });
}
