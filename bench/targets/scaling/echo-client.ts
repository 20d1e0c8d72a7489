/**
 * `rpc --instances` scaling, one load process: a goms node with every server
 * instance as a static peer (round-robin), `inflight` echo calls kept in flight;
 * warms up, then counts completed calls and their latencies for the window and
 * prints one JSON line: { calls, ms, latenciesMs (sampled) }.
 * argv: ports (comma-separated) inflight warmupMs durationMs
 */
import { BenchService } from "../../gen/goms/bench/v1/bench_pb.js";
import { createNode } from "../../../dist/rpc/index.js";
import { checkEchoResponse, makeBenchMessage } from "../../lib/payload.js";

const [portsArg = "", inflightArg = "64", warmupArg = "500", durationArg = "2000"] = process.argv.slice(2);
const ports = portsArg.split(",").map(Number);
const node = createNode({ identity: { name: `bench-client-${process.pid}` }, peers: { addresses: ports.map((port) => ({ host: "127.0.0.1", port })) } });
await node.start();
await node.waitForPeer(10_000);
const bench = node.client(BenchService);
const msg = makeBenchMessage();
checkEchoResponse("goms", await bench.echo(msg));

let measuring = false;
let stopped = false;
let calls = 0;
const latencies: number[] = [];
async function loop(): Promise<void> {
  while (!stopped) {
    const t = performance.now();
    await bench.echo(msg);
    if (measuring) {
      calls++;
      // Every 16th call: enough for p50/p99 without the array growing with the rate.
      if ((calls & 15) === 0) latencies.push(performance.now() - t);
    }
  }
}
const loops = Array.from({ length: Number(inflightArg) }, () => loop());
await new Promise((r) => setTimeout(r, Number(warmupArg)));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, Number(durationArg)));
measuring = false;
const ms = performance.now() - t0;
stopped = true;
await Promise.all(loops);
process.stdout.write(JSON.stringify({ calls, ms, latenciesMs: latencies }) + "\n");
await node.close({ graceMs: 0 });
process.exit(0);
