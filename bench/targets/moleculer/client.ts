/** moleculer: a second broker calling `bench.echo` on the server node. */
import { ServiceBroker } from "moleculer";
import { checkEchoResponse, makeBenchJson, type BenchJson } from "../../lib/payload.js";
import { clientTarget } from "../../lib/target.js";
import { CLIENT_NODE, brokerOptions } from "./broker.js";

await clientTarget(async (cfg) => {
  const broker = new ServiceBroker(brokerOptions(cfg, CLIENT_NODE));
  await broker.start();
  await broker.waitForServices("bench", 20_000);
  const msg = makeBenchJson();
  const fn = (): Promise<BenchJson> => broker.call<BenchJson, BenchJson>("bench.echo", msg);
  checkEchoResponse("moleculer", await fn());
  return {
    call: { kind: "promise", fn },
    close: () => broker.stop(),
  };
});
