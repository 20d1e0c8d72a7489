import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, afterEach, before, describe, it } from "node:test";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Code, GomsError } from "../../src/errors/index.js";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { setupTracing, tracingInterceptors, type TracingHandle } from "../../src/monitor/index.js";
import type { GomsNode } from "../../src/rpc/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { expectEndsWith, newProbe, streamImpl, type Probe } from "../streams/fixture.js";
import { NodeSet, until } from "../helpers.js";

const nodes = new NodeSet();
const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
before(async () => {
  tracing = await setupTracing({ serviceName: "goms-test", spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
after(() => tracing.shutdown());
afterEach(async () => {
  // Spans that end as the nodes close belong to this test, not the next one.
  await nodes.closeAll();
  exporter.reset();
});

function parentId(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}

describe("tracing over goms metadata", () => {
  it("propagates W3C trace context across nodes over TCP: one trace, parent/child spans", async () => {
    assert.equal(tracing.registered, true);
    const t = tracingInterceptors();
    const seen: Record<string, string | undefined> = {};
    const c = await nodes.start({ identity: { name: "trace-c" }, listen: { port: 0 }, calls: { serverInterceptors: [t.server] } }, (n) =>
      n.service(DB, {
        query(req, ctx) {
          seen["c"] = ctx.metadata["traceparent"];
          if (req.key === "bad") throw new GomsError("no such key", Code.NotFound);
          return { value: "v" };
        },
      }),
    );
    const b = await nodes.start(
      { identity: { name: "trace-b" }, listen: { port: 0 }, peers: { addresses: [{ host: "127.0.0.1", port: c.port }] }, calls: { interceptors: [t.client], serverInterceptors: [t.server] } },
      (n) =>
        n.service(AddServer, {
          async add(req, ctx) {
            seen["b"] = ctx.metadata["traceparent"];
            // A nested call from inside the handler: a child of this server span.
            const r = await n.client(DB).query({ key: req.a === 13 ? "bad" : "k" }).catch(() => ({ value: "" }));
            return { sum: req.a + req.b + r.value.length };
          },
        }),
    );
    const a = await nodes.start({ identity: { name: "trace-a" }, peers: { addresses: [{ host: "127.0.0.1", port: b.port }] }, calls: { interceptors: [t.client] } });

    const root = trace.getTracer("test").startSpan("root");
    const res = await context.with(trace.setSpan(context.active(), root), () => a.client(AddServer).add({ a: 1, b: 2 }));
    root.end();
    assert.equal(res.sum, 4);

    const spans = exporter.getFinishedSpans();
    const byKind = (name: string, kind: SpanKind): ReadableSpan => {
      const s = spans.find((x) => x.name === name && x.kind === kind);
      assert.ok(s, `no ${SpanKind[kind]} span ${name}; have ${spans.map((x) => `${x.name}/${SpanKind[x.kind]}`).join(", ")}`);
      return s;
    };
    const aClient = byKind("goms.examples.v1.AddServer/Add", SpanKind.CLIENT);
    const bServer = byKind("goms.examples.v1.AddServer/Add", SpanKind.SERVER);
    const bClient = byKind("goms.examples.v1.DB/Query", SpanKind.CLIENT);
    const cServer = byKind("goms.examples.v1.DB/Query", SpanKind.SERVER);
    const traceId = root.spanContext().traceId;
    for (const s of [aClient, bServer, bClient, cServer]) assert.equal(s.spanContext().traceId, traceId, `${s.name} is in the root's trace`);
    assert.equal(parentId(aClient), root.spanContext().spanId);
    assert.equal(parentId(bServer), aClient.spanContext().spanId);
    assert.equal(parentId(bClient), bServer.spanContext().spanId);
    assert.equal(parentId(cServer), bClient.spanContext().spanId);
    assert.equal(seen["b"], `00-${traceId}-${aClient.spanContext().spanId}-01`);
    assert.equal(seen["c"], `00-${traceId}-${bClient.spanContext().spanId}-01`);
    assert.equal(bServer.attributes["rpc.system"], "goms");
    assert.equal(bServer.attributes["goms.peer.node"], "trace-a");

    // Errors mark the spans on both sides.
    exporter.reset();
    await a.client(AddServer).add({ a: 13 });
    const failed = exporter.getFinishedSpans().filter((s) => s.name === "goms.examples.v1.DB/Query");
    assert.equal(failed.length, 2);
    for (const s of failed) {
      assert.equal(s.status.code, SpanStatusCode.ERROR);
      assert.equal(s.attributes["goms.code"], "not_found");
    }
    // Without an active span a call starts a new trace.
    const top = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT && s.name === "goms.examples.v1.AddServer/Add");
    assert.ok(top);
    assert.equal(parentId(top), undefined);
    assert.notEqual(top.spanContext().traceId, traceId);
  });
});

const MAX_EVENTS = 8;

async function* items(count: number) {
  for (let i = 1; i <= count; i++) yield { n: i };
}

/** A server node and a client node over TCP, both tracing, with a small per-span event cap. */
async function tracedPair(): Promise<{ client: GomsNode; server: GomsNode; probe: Probe }> {
  const t = tracingInterceptors({ maxMessageEvents: MAX_EVENTS });
  const probe = newProbe();
  const server = await nodes.start({ identity: { name: "trace-server" }, listen: { port: 0 }, calls: { serverInterceptors: [t.server] } }, (n) => n.service(StreamTest, streamImpl(probe)));
  const client = await nodes.start({ identity: { name: "trace-client" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] }, calls: { interceptors: [t.client] } });
  return { client, server, probe };
}

/** The one span of `name` and `kind`, once it ended. */
async function span(name: string, kind: SpanKind): Promise<ReadableSpan> {
  const find = () => exporter.getFinishedSpans().filter((s) => s.name === `goms.test.v1.StreamTest/${name}` && s.kind === kind);
  await until(() => find().length > 0, 5000, `a ${SpanKind[kind]} span for ${name}`);
  const all = find();
  assert.equal(all.length, 1, `one ${SpanKind[kind]} span per stream`);
  return all[0]!;
}

function events(s: ReadableSpan, type: "SENT" | "RECEIVED"): number[] {
  return s.events.filter((e) => e.name === "message" && e.attributes?.["message.type"] === type).map((e) => e.attributes?.["message.id"] as number);
}

describe("tracing streams", () => {
  it("a server stream is one span per side, parent and child, with a message event per message", async () => {
    const { client } = await tracedPair();
    const root = trace.getTracer("test").startSpan("root");
    let n = 0;
    await context.with(trace.setSpan(context.active(), root), async () => {
      for await (const _ of client.client(StreamTest).count({ count: 5 })) n++;
    });
    root.end();
    assert.equal(n, 5);
    const c = await span("Count", SpanKind.CLIENT);
    const s = await span("Count", SpanKind.SERVER);
    assert.equal(c.parentSpanContext?.spanId, root.spanContext().spanId);
    assert.equal(s.parentSpanContext?.spanId, c.spanContext().spanId);
    assert.deepEqual(events(c, "SENT"), [1]);
    assert.deepEqual(events(c, "RECEIVED"), [1, 2, 3, 4, 5]);
    assert.deepEqual(events(s, "RECEIVED"), [1]);
    assert.deepEqual(events(s, "SENT"), [1, 2, 3, 4, 5]);
    for (const x of [c, s]) assert.equal(x.status.code, SpanStatusCode.UNSET);
    assert.equal(c.attributes["goms.stream.messages_received"], 5);
    assert.equal(s.attributes["goms.stream.messages_sent"], 5);
  });

  it("events are capped per span; the rest are counted", async () => {
    const { client } = await tracedPair();
    let n = 0;
    for await (const _ of client.client(StreamTest).echo(items(50))) n++;
    assert.equal(n, 50);
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const s = await span("Echo", kind);
      assert.equal(s.events.length, MAX_EVENTS);
      assert.equal(s.attributes["goms.stream.messages_sent"], 50);
      assert.equal(s.attributes["goms.stream.messages_received"], 50);
      assert.equal(s.attributes["goms.stream.events_dropped"], 100 - MAX_EVENTS);
    }
  });

  it("a client stream: request events, one response event; errors and cancellation end the spans", async () => {
    const { client } = await tracedPair();
    assert.equal((await client.client(StreamTest).sum(items(3))).total, 6n);
    const c = await span("Sum", SpanKind.CLIENT);
    assert.deepEqual(events(c, "SENT"), [1, 2, 3]);
    assert.deepEqual(events(c, "RECEIVED"), [1]);
    const s = await span("Sum", SpanKind.SERVER);
    assert.deepEqual(events(s, "RECEIVED"), [1, 2, 3]);
    assert.deepEqual(events(s, "SENT"), [1]);

    exporter.reset();
    await assert.rejects(async () => {
      for await (const _ of client.client(StreamTest).count({ count: 5, failAfter: 2 }));
    });
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const x = await span("Count", kind);
      assert.equal(x.status.code, SpanStatusCode.ERROR);
      assert.equal(x.attributes["goms.code"], "failed_precondition");
      assert.equal(x.attributes["goms.ret"], 77);
    }

    exporter.reset();
    for await (const m of client.client(StreamTest).count({ count: 10_000, size: 1024 })) if (m.n === 3) break;
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) assert.equal((await span("Count", kind)).attributes["goms.code"], "canceled");
  });

  it("a stream whose caller never reads it still ends its span: on abort, and at the deadline", async () => {
    const { client } = await tracedPair();
    const ac = new AbortController();
    // Opened, never iterated: nothing will ever pull the end through the span's observer.
    const abandoned = client.client(StreamTest).count({ count: 1_000_000, size: 1024 }, { signal: ac.signal });
    assert.ok(abandoned);
    ac.abort(new GomsError("gave up", Code.Canceled));
    const canceled = await span("Count", SpanKind.CLIENT);
    assert.equal(canceled.attributes["goms.code"], "canceled");
    assert.equal(canceled.status.code, SpanStatusCode.ERROR);

    exporter.reset();
    // Read once, then left (no break, no return()) with the producer suspended on a full window: the deadline ends the stream and its span.
    const it = client.client(StreamTest).count({ count: 1_000_000, size: 1024 }, { timeoutMs: 2000 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    const late = await span("Count", SpanKind.CLIENT);
    assert.equal(late.attributes["goms.code"], "deadline_exceeded");
    assert.deepEqual(events(late, "RECEIVED"), [1]);
  });
});

/** Reads what is left of `it`; returns how many messages it gave before its end. */
async function drain(it: AsyncIterator<unknown>): Promise<number> {
  let n = 0;
  while ((await it.next()).done !== true) n++;
  return n;
}

/**
 * A stream `client` opens and never reads, which the server ends cleanly after 2 messages: one span, OK, with
 * the end's ret, no event for the unread responses, and nothing left listening on the caller's signal.
 */
async function assertCleanUnread(client: GomsNode): Promise<void> {
  const ac = new AbortController();
  const it = client.client(StreamTest).count({ count: 2, endRet: 5 }, { signal: ac.signal })[Symbol.asyncIterator]();
  const c = await span("Count", SpanKind.CLIENT);
  assert.equal(getEventListeners(ac.signal, "abort").length, 0);
  assert.equal(c.status.code, SpanStatusCode.UNSET);
  assert.equal(c.attributes["goms.ret"], 5);
  assert.deepEqual(events(c, "RECEIVED"), []);
  assert.equal(c.attributes["goms.stream.messages_received"], 0);
  // The responses were kept for the caller, and reading them now does not end the span again.
  assert.equal(await drain(it), 2);
  assert.equal((await span("Count", SpanKind.CLIENT)).spanContext().spanId, c.spanContext().spanId);
}

describe("a stream's client span ends however the stream ends, read or not", () => {
  it("the server node dies under a caller holding the stream without reading, signal or deadline: ERROR, unavailable", async () => {
    const { client, server, probe } = await tracedPair();
    const held = client.client(StreamTest).count({ count: 1_000_000, size: 1024 })[Symbol.asyncIterator]();
    await until(() => probe.produced > 0, 5000, "the handler to produce");
    await server.kill();
    const c = await span("Count", SpanKind.CLIENT);
    assert.equal(c.status.code, SpanStatusCode.ERROR);
    assert.equal(c.attributes["goms.code"], "unavailable");
    // The caller still gets what arrived, then the same error.
    await expectEndsWith(held, Code.Unavailable);
  });

  it("the server ends the stream cleanly after 2 messages and the caller never reads them: OK (TCP)", async () => {
    const { client } = await tracedPair();
    await assertCleanUnread(client);
  });

  it("the same in-process", async () => {
    const t = tracingInterceptors();
    const node = await nodes.start({ identity: { name: "trace-local" }, calls: { interceptors: [t.client], serverInterceptors: [t.server] } }, (n) => n.service(StreamTest, streamImpl(newProbe())));
    await assertCleanUnread(node);
  });

  it("a stream refused at open and retried on another node, never read: one span, ended by the kept attempt", async () => {
    const t = tracingInterceptors();
    const probes = new Map<string, Probe>();
    const holding: string[] = [];
    const servers: GomsNode[] = [];
    for (const name of ["s1", "s2"]) {
      const probe = newProbe();
      probes.set(name, probe);
      const impl = {
        ...streamImpl(probe),
        // Holds its node's one call slot until the caller's requests end.
        async *echo(reqs: AsyncIterable<{ n: number }>) {
          holding.push(name);
          for await (const r of reqs) yield r;
        },
      };
      // s1 takes one call at a time (adaptive limit pinned to 1): past it, it refuses with the retry-elsewhere hint.
      const limits = name === "s1" ? { limits: { adaptiveConcurrency: { initialLimit: 1, minLimit: 1, maxLimit: 1 } } } : {};
      servers.push(await nodes.start({ identity: { name }, listen: { port: 0 }, ...limits, calls: { serverInterceptors: [t.server] } }, (n) => n.service(StreamTest, impl)));
    }
    const client = await nodes.start({ identity: { name: "trace-retry-client" }, peers: { addresses: servers.map((s) => ({ host: "127.0.0.1", port: s.port })) }, calls: { interceptors: [t.client] } });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    async function* none(): AsyncGenerator<{ n: number }> {
      await released;
      yield* [];
    }
    const hold = client.client(StreamTest).echo(none(), { node: "s1" });
    await until(() => holding.includes("s1"), 5000, "s1 to hold a stream");
    // Round-robin: of two streams opened one after the other, one is placed on s1 first.
    const held = [0, 1].map(() => client.client(StreamTest).count({ count: 2, endRet: 5 })[Symbol.asyncIterator]());
    const counts = () => exporter.getFinishedSpans().filter((s) => s.name === "goms.test.v1.StreamTest/Count" && s.kind === SpanKind.CLIENT);
    await until(() => counts().length === 2, 5000, "both streams' client spans to end");
    const refused = servers[0]!.stats().admission.refusedLimit;
    assert.ok(refused >= 1, "s1 refused a stream");
    assert.equal(client.stats().retries, refused);
    for (const c of counts()) {
      assert.equal(c.status.code, SpanStatusCode.UNSET, "ended by the kept attempt's clean end, not by the refusal");
      assert.equal(c.attributes["goms.ret"], 5);
    }
    assert.equal(probes.get("s1")!.produced, 0);
    assert.equal(probes.get("s2")!.produced, 4);
    for (const it of held) assert.equal(await drain(it), 2);
    assert.equal(counts().length, 2, "one span per stream");
    release();
    assert.equal(await drain(hold[Symbol.asyncIterator]()), 0);
  });
});
