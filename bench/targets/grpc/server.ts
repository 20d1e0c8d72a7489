/**
 * grpc: @grpc/grpc-js, the way its users write it: unary Echo (rpc suite),
 * server-streaming Stream written with back-pressure (write() false -> wait for
 * "drain") and bidi PingPong echoing each message (stream suite).
 */
import * as grpc from "@grpc/grpc-js";
import { echoJson, makeBenchJson } from "../../lib/payload.js";
import { serveTarget, serverPort } from "../../lib/target.js";
import { loadBenchService } from "./service.js";

/** The fields the handler touches; the rest of the decoded object is echoed as-is. */
interface EchoShape {
  field1: string;
  field2: number;
}

/** proto-loader's view of StreamRequest (longs as strings). */
interface StreamRequestShape {
  count: string;
}

await serveTarget(async (cfg) => {
  const svc = loadBenchService();
  let count = 0;
  const echo: grpc.handleUnaryCall<EchoShape, EchoShape> = (call, callback) => {
    count++;
    callback(null, echoJson(call.request));
  };
  const streamMsg = echoJson(makeBenchJson());
  const stream: grpc.handleServerStreamingCall<StreamRequestShape, EchoShape> = (call) => {
    const n = Number(call.request.count);
    let sent = 0;
    let stopped = false;
    call.on("cancelled", () => (stopped = true));
    call.on("error", () => (stopped = true));
    const pump = (): void => {
      while (!stopped && (n === 0 || sent < n)) {
        sent++;
        count++;
        if (!call.write(streamMsg)) {
          call.once("drain", pump);
          return;
        }
      }
      if (!stopped) call.end();
    };
    pump();
  };
  const pingPong: grpc.handleBidiStreamingCall<EchoShape, EchoShape> = (call) => {
    call.on("data", (req: EchoShape) => {
      count++;
      call.write(echoJson(req));
    });
    call.on("end", () => call.end());
    call.on("error", () => {});
  };
  const server = new grpc.Server();
  server.addService(svc.service, { Echo: echo, Stream: stream, PingPong: pingPong });
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
