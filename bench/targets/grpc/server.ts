/** grpc: @grpc/grpc-js unary Echo. */
import * as grpc from "@grpc/grpc-js";
import { echoJson } from "../../lib/payload.js";
import { serveTarget, serverPort } from "../../lib/target.js";
import { loadBenchService } from "./service.js";

/** The fields the handler touches; the rest of the decoded object is echoed as-is. */
interface EchoShape {
  field1: string;
  field2: number;
}

await serveTarget(async (cfg) => {
  const svc = loadBenchService();
  let count = 0;
  const echo: grpc.handleUnaryCall<EchoShape, EchoShape> = (call, callback) => {
    count++;
    callback(null, echoJson(call.request));
  };
  const server = new grpc.Server();
  server.addService(svc.service, { Echo: echo });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`${cfg.host}:${serverPort(cfg)}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return {
    count: () => count,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
});
