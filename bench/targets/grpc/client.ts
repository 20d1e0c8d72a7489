/** grpc: one grpc-js client (one HTTP/2 connection), promisified unary Echo. */
import * as grpc from "@grpc/grpc-js";
import { checkEchoResponse, makeBenchJson, type BenchJson } from "../../lib/payload.js";
import { clientTarget, serverPort } from "../../lib/target.js";
import { loadBenchService } from "./service.js";

type EchoFn = (req: BenchJson, cb: (err: grpc.ServiceError | null, res?: BenchJson) => void) => void;

function isEchoFn(x: unknown): x is EchoFn {
  return typeof x === "function";
}

await clientTarget(async (cfg) => {
  const Ctor = loadBenchService();
  const client = new Ctor(`${cfg.host}:${serverPort(cfg)}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())),
  );
  const method: unknown = client["Echo"];
  if (!isEchoFn(method)) throw new Error("BenchService client has no Echo method");
  const echo = method.bind(client);
  const msg = makeBenchJson();
  const fn = (): Promise<BenchJson | undefined> =>
    new Promise((resolve, reject) => echo(msg, (err, res) => (err ? reject(err) : resolve(res))));
  checkEchoResponse("grpc", await fn());
  return {
    call: { kind: "promise", fn },
    close: async () => client.close(),
  };
});
