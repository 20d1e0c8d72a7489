// How a Watch stream packs events into messages, read as raw WatchService.Watch
// messages over TCP: the events already in the history when the stream reads
// go out together in one message (bounded by max_events and the stream's
// batch bytes), not one message per event; every revision arrives exactly
// once, in order.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { WatchService, type WatchPollResponse } from "../../src/gen/goms/v1/watch_pb.js";
import type { GomsNode } from "../../src/rpc/index.js";
import type { WatchServer } from "../../src/watch/index.js";
import { NodeSet, until } from "../helpers.js";
import { enc, Fixture } from "./helpers.js";

const fx = new Fixture();
const nodes = new NodeSet();
afterEach(async () => {
  await nodes.closeAll();
  await fx.close();
});

/** A watch server, and a node that reads its Watch streams raw (message by message). */
async function setup(poll: Parameters<Fixture["server"]>[0] = {}): Promise<{ s: WatchServer; reader: GomsNode }> {
  const s = await fx.server(poll);
  const reader = await nodes.start({ identity: { name: "raw-watcher" }, peers: { addresses: [{ host: "127.0.0.1", port: s.port }] } });
  return { s, reader };
}

/** Reads messages of a Watch until `events` events arrived; the messages, as their event revisions. */
async function readEvents(reader: GomsNode, req: { prefix: string; fromRevision: number; maxEvents?: number }, events: number): Promise<number[][]> {
  const ac = new AbortController();
  const out: number[][] = [];
  let n = 0;
  const stream = reader.client(WatchService).watch(
    { filter: { case: "prefix", value: req.prefix }, fromRevision: BigInt(req.fromRevision), maxEvents: req.maxEvents ?? 0 },
    { signal: ac.signal, timeoutMs: 20_000 },
  );
  for await (const m of stream as AsyncIterable<WatchPollResponse>) {
    if (m.events.length === 0) continue;
    out.push(m.events.map((e) => Number(e.revision)));
    n += m.events.length;
    if (n >= events) break;
  }
  return out;
}

function assertExactlyOnce(messages: number[][], first: number, count: number): void {
  assert.deepEqual(
    messages.flat(),
    Array.from({ length: count }, (_, i) => first + i),
  );
}

describe("Watch stream batching (TCP)", () => {
  it("a burst already in the history goes out in one message, not one per event", async () => {
    const { s, reader } = await setup();
    const writer = fx.client(s.url);
    const first = s.store.revision + 1;
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.put(`k/${String(i % 16)}`, enc(String(i)))));
    const messages = await readEvents(reader, { prefix: "k/", fromRevision: first }, 50);
    assert.equal(messages.length, 1, `messages of ${messages.map((m) => m.length).join(", ")} events`);
    assertExactlyOnce(messages, first, 50);
  });

  it("a burst committed while the stream waits for changes arrives in one message", async () => {
    const { s, reader } = await setup();
    const first = s.store.revision + 1;
    const reading = readEvents(reader, { prefix: "k/", fromRevision: 0 }, 50);
    // The stream is open (its first message fixed "from now") and parked.
    await until(() => s.poller.streams === 1 && s.poller.parked === 1, 10_000, "the stream parked");
    // One turn of the server's event loop: every commit lands before the stream wakes.
    for (let i = 0; i < 50; i++) s.store.put(`k/${String(i % 16)}`, enc(String(i)));
    const messages = await reading;
    assert.equal(messages.length, 1, `messages of ${messages.map((m) => m.length).join(", ")} events`);
    assertExactlyOnce(messages, first, 50);
  });

  it("a batch is bounded: max_events per message, and the stream's batch bytes", async () => {
    const { s, reader } = await setup({ poll: { streamBatchBytes: 64 * 1024 } });
    const first = s.store.revision + 1;
    for (let i = 0; i < 50; i++) s.store.put(`k/${String(i)}`, enc(String(i)));
    const counted = await readEvents(reader, { prefix: "k/", fromRevision: first, maxEvents: 20 }, 50);
    assert.deepEqual(
      counted.map((m) => m.length),
      [20, 20, 10],
    );
    assertExactlyOnce(counted, first, 50);

    // 30 KiB values on distinct keys (no previous value): two fit 64 KiB, a third does not.
    const big = s.store.revision + 1;
    for (let i = 0; i < 5; i++) s.store.put(`b/${String(i)}`, new Uint8Array(30 * 1024).fill(65 + i));
    const sized = await readEvents(reader, { prefix: "b/", fromRevision: big }, 5);
    assert.deepEqual(
      sized.map((m) => m.length),
      [2, 2, 1],
    );
    assertExactlyOnce(sized, big, 5);
  });
});
