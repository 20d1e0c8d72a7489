/** nest: ClientProxy (TCP) with `firstValueFrom(client.send('echo', msg))`. */
import "reflect-metadata";
import { ClientProxyFactory, Transport } from "@nestjs/microservices";
import { firstValueFrom } from "rxjs";
import { checkEchoResponse, makeBenchJson, type BenchJson } from "../../lib/payload.js";
import { clientTarget, retry, serverPort } from "../../lib/target.js";

await clientTarget(async (cfg) => {
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: cfg.host, port: serverPort(cfg) } });
  await retry(() => client.connect());
  const msg = makeBenchJson();
  const fn = (): Promise<BenchJson> => firstValueFrom(client.send<BenchJson, BenchJson>("echo", msg));
  checkEchoResponse("nest", await fn());
  return {
    call: { kind: "promise", fn },
    close: async () => {
      await client.close();
    },
  };
});
