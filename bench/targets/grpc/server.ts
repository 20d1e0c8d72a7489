/**
 * grpc: @grpc/grpc-js, the way its users write it: unary Echo (rpc suite),
 * server-streaming Stream written with back-pressure (write() false -> wait for
 * "drain") and bidi PingPong echoing each message (stream suite).
 *
 * GRPC_BENCH_NODRAIN=N (the stalled-reader part's grpc-nodrain row): Stream
 * ignores write()'s return value, as a handler that never checks it does;
 * grpc-js then queues whatever the reader does not take. N caps the messages
 * one stream writes: the bench's backstop, so that a run cannot exhaust
 * memory (the client's cancel at the end of the window is what normally stops
 * the loop).
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

/** Messages written per event-loop turn when write()'s return value is ignored. */
const NODRAIN_BATCH = 32;
await serveTarget(async (cfg) => {
  const svc = loadBenchService();
  let count = 0;
  const echo: grpc.handleUnaryCall<EchoShape, EchoShape> = (call, callback) => {
    count++;
    callback(null, echoJson(call.request));
  };
  const streamMsg = echoJson(makeBenchJson());
  const noDrainMax = Number(process.env.GRPC_BENCH_NODRAIN ?? 0);
  const stream: grpc.handleServerStreamingCall<StreamRequestShape, EchoShape> = (call) => {
    const n = Number(call.request.count);
    let sent = 0;
    let stopped = false;
    call.on("cancelled", () => (stopped = true));
    call.on("error", () => (stopped = true));
    const more = (): boolean => !stopped && (n === 0 || sent < n) && sent < noDrainMax;
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
    // A batch per event-loop turn, so the cancel at the end of the window is still read and stops the loop.
    const flood = (): void => {
      for (let i = 0; i < NODRAIN_BATCH && more(); i++) {
        sent++;
        count++;
        call.write(streamMsg);
      }
      if (more()) setImmediate(flood);
      // At the backstop it stops writing and waits for the cancel.
      else if (!stopped && n !== 0 && sent >= n) call.end();
    };
    if (noDrainMax > 0) flood();
    else pump();
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
