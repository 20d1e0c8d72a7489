/**
 * grpc, stream suite: one grpc-js client (one HTTP/2 connection); Stream read
 * with "data" events (throughput; in "stall" mode paused with call.pause() for
 * the measured window), or PingPong one message at a time.
 */
import * as grpc from "@grpc/grpc-js";
import { checkEchoResponse, checkStreamResponse, makeBenchJson } from "../../lib/payload.js";
import { pingPongCalls, type PingPongLink } from "../../lib/ping-pong.js";
import { CHECK_STREAM_COUNT, streamMode } from "../../lib/stream-load.js";
import { clientTarget, serverPort } from "../../lib/target.js";
import { loadBenchService } from "./service.js";

type StreamFn = (req: { count: string }) => grpc.ClientReadableStream<unknown>;
type BidiFn = () => grpc.ClientDuplexStream<unknown, unknown>;

function method<T>(client: grpc.Client, name: string): T {
  const m: unknown = (client as unknown as Record<string, unknown>)[name];
  if (typeof m !== "function") throw new Error(`BenchService client has no ${name} method`);
  return m.bind(client) as T;
}

/** Collects a whole (short) stream. */
function collect(call: grpc.ClientReadableStream<unknown>): Promise<unknown[]> {
  const got: unknown[] = [];
  return new Promise((resolve, reject) => {
    call.on("data", (m: unknown) => got.push(m));
    call.on("error", reject);
    call.on("end", () => resolve(got));
  });
}

await clientTarget(async (cfg) => {
  const mode = streamMode();
  const Ctor = loadBenchService();
  const client = new Ctor(`${cfg.host}:${serverPort(cfg)}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
  if (mode === "throughput" || mode === "stall") {
    const stream = method<StreamFn>(client, "Stream");
    checkStreamResponse("grpc", await collect(stream({ count: String(CHECK_STREAM_COUNT) })), CHECK_STREAM_COUNT);
    const open = new Set<grpc.ClientReadableStream<unknown>>();
    // A paused readable stops asking grpc-js for messages, so HTTP/2 flow control holds the server's writes back.
    const onWindow = (edge: "start" | "end"): void => {
      for (const call of open) {
        if (edge === "start") call.pause();
        else call.resume();
      }
    };
    return {
      call: {
        kind: "stream",
        ...(mode === "stall" ? { onWindow } : {}),
        open: (sink) => {
          const call = stream({ count: "0" });
          open.add(call);
          call.on("data", () => sink.message());
          call.on("error", (e: unknown) => sink.end(e));
          call.on("end", () => sink.end(undefined));
          return () => {
            open.delete(call);
            call.cancel();
          };
        },
      },
      close: async () => client.close(),
    };
  }
  const bidi = method<BidiFn>(client, "PingPong");
  const open = (): PingPongLink => {
    const call = bidi();
    let waiter: { resolve(v: unknown): void; reject(e: unknown): void } | undefined;
    call.on("data", (m: unknown) => {
      const w = waiter;
      waiter = undefined;
      w?.resolve(m);
    });
    call.on("error", (e: unknown) => {
      const w = waiter;
      waiter = undefined;
      w?.reject(e);
    });
    return {
      roundTrip: (m) =>
        new Promise((resolve, reject) => {
          waiter = { resolve, reject };
          call.write(m);
        }),
      close: () => call.cancel(),
    };
  };
  const pp = pingPongCalls(open, makeBenchJson());
  checkEchoResponse("grpc", await pp.call.fn());
  return {
    call: pp.call,
    close: async () => {
      pp.close();
      client.close();
    },
  };
});
