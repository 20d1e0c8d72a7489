/** moleculer: a broker with service `bench`, action `echo`. */
import { ServiceBroker, type Context } from "moleculer";
import type { BenchJson } from "../../lib/payload.js";
import { echoJson } from "../../lib/payload.js";
import { serveTarget } from "../../lib/target.js";
import { SERVER_NODE, brokerOptions } from "./broker.js";

await serveTarget(async (cfg) => {
  let count = 0;
  const broker = new ServiceBroker(brokerOptions(cfg, SERVER_NODE));
  broker.createService({
    name: "bench",
    actions: {
      echo(ctx: Context<BenchJson>): BenchJson {
        count++;
        return echoJson(ctx.params);
      },
    },
  });
  await broker.start();
  return { count: () => count, close: () => broker.stop() };
});
