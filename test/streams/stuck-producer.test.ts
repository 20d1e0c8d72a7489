// Bad input (issue 11): a producer that never yields, held until the deadline.
// A stream handler stuck on a promise that never settles, and a client whose
// request iterable never yields, are ended by the deadline: the caller gets
// deadline_exceeded, the handler's ctx.signal aborts, and the stream's slot
// on the connection is free again. Over TCP, in-process and through the
// gateway (SSE, WebSocket).
import assert from "node:assert/strict";
import { setTimeout as wait } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import WebSocket from "ws";
import { Code, GomsError } from "../../src/errors/index.js";
import type { GomsNode, ServiceImpl } from "../../src/rpc/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, until } from "../helpers.js";
import { createGateway, post } from "../gateway/helpers.js";
import { newProbe, streamImpl, type Probe } from "./fixture.js";

const nodes = new NodeSet();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await nodes.closeAll();
});

const never = new Promise<never>(() => undefined);

interface Stuck extends Probe {
  /** Handlers whose signal-aware wait was aborted (their finally ran). */
  unblocked: number;
}

/**
 * StreamTest whose handlers never produce: Count with count 0 waits on a
 * promise that never settles (not even the signal can end it); with count 1
 * it waits on a 10-minute timer that ctx.signal aborts. Sum and Echo never read.
 */
function stuckImpl(probe: Stuck): ServiceImpl<typeof StreamTest> {
  const base = streamImpl(probe);
  return {
    ...base,
    async *count(req, ctx) {
      ctx.signal.addEventListener("abort", () => probe.aborted++);
      if (req.count === 0) await never;
      try {
        await wait(600_000, undefined, { signal: ctx.signal });
      } finally {
        probe.unblocked++;
      }
      yield { n: 0 };
    },
    async sum(_reqs, ctx) {
      ctx.signal.addEventListener("abort", () => probe.aborted++);
      await never;
      return {};
    },
  };
}

const isDeadline = (e: unknown): boolean => GomsError.is(e) && e.code === Code.DeadlineExceeded;

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _m of it);
}

/** A client whose request iterable never yields. */
function silent(): AsyncIterable<{ n: number }> {
  return { [Symbol.asyncIterator]: () => ({ next: () => never }) };
}

async function hosts(probe: Stuck, tcp: boolean): Promise<GomsNode> {
  const impl = stuckImpl(probe);
  if (!tcp) return nodes.start({ identity: { name: "stuck-local" } }, (n) => n.service(StreamTest, impl));
  const server = await nodes.start({ identity: { name: "stuck" }, listen: { port: 0 }, limits: { connection: { maxConcurrentStreams: 1 } } }, (n) => n.service(StreamTest, impl));
  return nodes.start({ identity: { name: "caller" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
}

for (const tcp of [true, false]) {
  describe(`a producer that never yields, ${tcp ? "over TCP" : "in-process"}`, () => {
    it("a server-stream handler stuck for good: deadline_exceeded, ctx.signal aborted, the slot freed", async () => {
      const probe: Stuck = { ...newProbe(), unblocked: 0 };
      const c = (await hosts(probe, tcp)).client(StreamTest);
      // Over TCP the server allows one stream at a time: each deadline must free the slot for the next.
      for (let i = 1; i <= 3; i++) {
        await assert.rejects(drain(c.count({ count: 0 }, { timeoutMs: 200 })), isDeadline);
        await until(() => probe.aborted === i, 5000, `handler ${i}'s ctx.signal aborted`);
      }
    });

    it("a handler waiting on the signal ends with it: its finally runs", async () => {
      const probe: Stuck = { ...newProbe(), unblocked: 0 };
      const c = (await hosts(probe, tcp)).client(StreamTest);
      await assert.rejects(drain(c.count({ count: 1 }, { timeoutMs: 200 })), isDeadline);
      await until(() => probe.unblocked === 1 && probe.aborted === 1, 5000, "the handler's wait aborted");
    });

    it("a client stream whose requests never come: deadline_exceeded, the server handler's signal aborted", async () => {
      const probe: Stuck = { ...newProbe(), unblocked: 0 };
      const c = (await hosts(probe, tcp)).client(StreamTest);
      await assert.rejects(c.sum(silent(), { timeoutMs: 200 }), isDeadline);
      await until(() => probe.aborted === 1, 5000, "the handler's ctx.signal aborted");
    });
  });
}

describe("a producer that never yields, through the gateway", () => {
  async function gateway(probe: Stuck): Promise<number> {
    const gwNode = await hosts(probe, true);
    const gw = createGateway({ node: gwNode });
    closers.push(() => gw.close());
    return (await gw.start()).port;
  }

  it("SSE: the end event is deadline_exceeded and the handler's signal aborts", async () => {
    const probe: Stuck = { ...newProbe(), unblocked: 0 };
    const port = await gateway(probe);
    const r = await post(port, "/api/StreamTest/Count", '{"count":0}', { accept: "application/x-ndjson", "x-goms-timeout-ms": "200" });
    assert.equal(r.status, 200);
    const lines = r.text.split("\n").filter((l) => l !== "");
    assert.deepEqual(lines.length, 1, r.text);
    assert.equal((JSON.parse(lines[0]!) as { end: { code: string } }).end.code, "deadline_exceeded");
    await until(() => probe.aborted === 1, 5000, "the handler's ctx.signal aborted");
  });

  it("WebSocket: a bidi handler that never answers is closed with 4004 (deadline_exceeded)", async () => {
    const probe: Stuck = { ...newProbe(), unblocked: 0 };
    const port = await gateway(probe);
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/StreamTest/Sum`, { headers: { "x-goms-timeout-ms": "200" } });
      ws.on("close", (c) => resolve(c));
      ws.on("error", () => undefined);
    });
    assert.equal(code, 4000 + Code.DeadlineExceeded);
    await until(() => probe.aborted === 1, 5000, "the handler's ctx.signal aborted");
  });
});
