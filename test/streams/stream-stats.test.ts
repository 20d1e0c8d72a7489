// node.stats().streams over real TCP and in-process: streams opened, messages
// sent and received on each side, and sends that waited for a consumer that
// held back (flow control), counted once per message held back; and the
// same counters in a monitor push, the console summary and /metrics.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { StreamCounters } from "../../src/rpc/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";
import { newProbe, pair, streamImpl } from "./fixture.js";
import { countersSeen, monitorAdmin } from "../monitor/counters-seen.js";
import { sampleValue } from "../monitor/exposition.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

const zero: StreamCounters = { opened: 0, sent: 0, received: 0, windowWaits: 0 };

describe("node.stats().streams", () => {
  it("a server stream over TCP: each side counts the stream, the request message and the 50 responses", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    assert.deepEqual(server.stats().streams, zero);
    let got = 0;
    for await (const _ of client.client(StreamTest).count({ count: 50, size: 16 })) got++;
    assert.equal(got, 50);
    await until(() => server.stats().streams.sent === 50, 5000, "the server's count");
    assert.deepEqual(client.stats().streams, { opened: 1, sent: 1, received: 50, windowWaits: 0 });
    assert.deepEqual(server.stats().streams, { opened: 1, sent: 50, received: 1, windowWaits: 0 });
  });

  it("a bidi stream over TCP: messages both ways", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    async function* items() {
      for (let n = 1; n <= 20; n++) yield { n };
    }
    let echoed = 0;
    for await (const _ of client.client(StreamTest).echo(items())) echoed++;
    assert.equal(echoed, 20);
    await until(() => server.stats().streams.sent === 20, 5000, "the server's count");
    assert.deepEqual(client.stats().streams, { opened: 1, sent: 20, received: 20, windowWaits: 0 });
    assert.deepEqual(server.stats().streams, { opened: 1, sent: 20, received: 20, windowWaits: 0 });
  });

  it("a consumer that holds back: the server counts its sends that waited for window, and only those", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    // 32 KiB messages: the 256 KiB window holds 7 of them (each costs a little over 32 KiB), the 8th waits.
    const it = client.client(StreamTest).count({ count: 40, size: 32 * 1024 })[Symbol.asyncIterator]();
    await it.next();
    await until(() => probe.produced >= 8, 5000, "the producer to fill the window");
    await sleep(100);
    // Held back: nothing more was sent, and one send is waiting.
    const held = server.stats().streams;
    assert.ok(held.sent >= 7 && held.sent <= 9, `sent while held: ${held.sent}`);
    assert.equal(held.windowWaits, 0, "a send is counted once it went out");
    let got = 1;
    while ((await it.next()).done !== true) got++;
    assert.equal(got, 40);
    await until(() => server.stats().streams.sent === 40, 5000, "every message sent");
    const after = server.stats().streams;
    // Each grant lets a few messages go at once; at least the send that waited while we held back counted.
    assert.ok(after.windowWaits >= 1 && after.windowWaits < 40, `windowWaits ${after.windowWaits}`);
    assert.equal(client.stats().streams.received, 40);
  });

  it("an in-process stream counts once per message on the one node, with waits on its 16-message queue", async () => {
    const probe = newProbe();
    const node = await nodes.start({ identity: { name: "solo" } }, (n) => n.service(StreamTest, streamImpl(probe)));
    const it = node.client(StreamTest).count({ count: 30, size: 1 })[Symbol.asyncIterator]();
    await it.next();
    // The handler fills the queue (16) and waits with the 17th or 18th message in hand.
    await until(() => probe.produced >= 17, 5000, "the handler to fill the queue");
    let got = 1;
    while ((await it.next()).done !== true) got++;
    assert.equal(got, 30);
    const s = node.stats().streams;
    // The request and 30 responses crossed; each counts as sent and as received.
    assert.equal(s.opened, 1);
    assert.equal(s.sent, 31);
    assert.equal(s.received, 31);
    assert.ok(s.windowWaits >= 1 && s.windowWaits <= 14, `windowWaits ${s.windowWaits}`);
  });

  it("reach a monitor push, the console's node summary and goms_stream* on /metrics", async () => {
    const at = await monitorAdmin(nodes);
    const probe = newProbe();
    const server = await nodes.start({ identity: { name: "streamer" }, listen: { port: 0 } }, (n) => n.service(StreamTest, streamImpl(probe)));
    const client = await nodes.start({
      identity: { name: "reader" },
      peers: { addresses: [{ host: "127.0.0.1", port: server.port }, { host: "127.0.0.1", port: at.admin.port }] },
    });
    let got = 0;
    for await (const _ of client.client(StreamTest).count({ count: 12 })) got++;
    assert.equal(got, 12);
    const { pushed, summary, metrics } = await countersSeen(nodes, client, at);
    const p = pushed.streams;
    assert.deepEqual(p && { opened: p.opened, sent: p.sent, received: p.received, windowWaits: p.windowWaits }, { opened: 1n, sent: 1n, received: 12n, windowWaits: 0n });
    assert.deepEqual(summary?.streams, { opened: 1, sent: 1, received: 12, windowWaits: 0 });
    const { samples, types } = metrics;
    assert.equal(types.get("goms_stream_messages_total"), "counter");
    assert.equal(sampleValue(samples, "goms_streams_opened_total", { node: "reader" }), 1);
    assert.equal(sampleValue(samples, "goms_stream_messages_total", { node: "reader", direction: "sent" }), 1);
    assert.equal(sampleValue(samples, "goms_stream_messages_total", { node: "reader", direction: "received" }), 12);
    assert.equal(sampleValue(samples, "goms_stream_window_waits_total", { node: "reader" }), 0);
  });
});
