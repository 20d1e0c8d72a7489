/**
 * Client of both Gateway SSE targets (gateway-sse, bare-sse): one HTTP
 * connection per server stream, POST of the Stream route with
 * `Accept: text/event-stream`; every event is counted, none is parsed (what
 * a browser's EventSource costs is not the point: the servers are compared).
 * Before it reports ready it reads a short stream and checks its messages.
 */
import http from "node:http";
import { checkStreamResponse } from "../../lib/payload.js";
import { openSseStream, parseSseEvents, readSseText, type SseTarget } from "../../lib/sse.js";
import { CHECK_STREAM_COUNT, streamMode } from "../../lib/stream-load.js";
import { SkipTarget, clientTarget, retry, serverPort } from "../../lib/target.js";

await clientTarget(async (cfg) => {
  const name = process.env["BENCH_SSE_TARGET"] ?? "sse";
  if (streamMode() !== "throughput") throw new SkipTarget(`${name} has no ping-pong`);
  const target: SseTarget = { host: cfg.host, port: serverPort(cfg), agent: new http.Agent({ keepAlive: true }) };
  // The gateway learns BenchService from its peer after start: retry until the route answers.
  const events = parseSseEvents(await retry(() => readSseText(target, CHECK_STREAM_COUNT)));
  const end = events.at(-1);
  if (end?.event !== "end" || (JSON.parse(end.data) as { code?: unknown }).code !== "ok") throw new Error(`${name}: the short stream did not end ok: ${JSON.stringify(end)}`);
  const messages = events.filter((e) => e.event === "message").map((e): unknown => JSON.parse(e.data));
  checkStreamResponse(name, messages, CHECK_STREAM_COUNT);
  const cancels = new Set<() => void>();
  return {
    call: {
      kind: "stream",
      open: (sink) => {
        const cancel = openSseStream(target, sink);
        cancels.add(cancel);
        return cancel;
      },
    },
    close: async () => {
      for (const c of cancels) c();
      target.agent.destroy();
    },
  };
});
