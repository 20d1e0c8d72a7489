// While unary calls share a connection with a stream, the stream's receiver
// lets at most 64 KiB of it be on the way or unread, instead of its whole
// 256 KiB window: a unary answer queued in the same TCP byte stream behind
// stream data waits until all of it was read and decoded
// (StreamInbox.grant; docs/streams.md, "Flow control"). Measured over real
// TCP as the producer's lead over a slow consumer: messages the handler got
// past its `yield` minus messages the consumer took. Counts, not time.
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { after, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet } from "../helpers.js";

const nodes = new NodeSet();
after(() => nodes.closeAll());

/** 1 KiB items: the 256 KiB window holds about 250 of them, the 64 KiB shared window about 62. */
const ITEM_BYTES = 1024;
const ITEMS = 1500;

it("a stream's receiver holds its sender to 64 KiB ahead while unary calls share the connection, 256 KiB alone", async () => {
  let produced = 0;
  const server = await nodes.start({ identity: { name: "shared-window-server" }, listen: { port: 0 } }, (n) => {
    n.service(AddServer, { add: (req) => ({ sum: req.a + req.b }) });
    n.service(StreamTest, {
      async *count(req) {
        const payload = new Uint8Array(ITEM_BYTES);
        for (let i = 0; i < req.count; i++) {
          yield { n: i, payload };
          produced++;
        }
      },
      async sum() {
        return {};
      },
      async *echo() {},
    });
  });
  const client = await nodes.start({
    identity: { name: "shared-window-client" },
    peers: { addresses: [{ host: "127.0.0.1", port: server.port }] },
  });
  const stream = client.client(StreamTest);
  const add = client.client(AddServer);

  /**
   * The producer's largest lead over a consumer that takes one message per
   * event-loop turn (slower than the producer: the window fills), once the
   * first `settle` messages were taken. `beside` runs during the stream.
   */
  const maxLead = async (beside?: () => Promise<void>): Promise<number> => {
    produced = 0;
    let taken = 0;
    let lead = 0;
    let done = false;
    const side = beside === undefined ? Promise.resolve() : (async () => {
      while (!done) await beside();
    })();
    try {
      for await (const item of stream.count({ count: ITEMS, size: ITEM_BYTES })) {
        assert.equal(item.n, taken);
        taken++;
        // The first 600 messages let a receiver that starts withholding converge on its smaller window.
        if (taken > 600) lead = Math.max(lead, produced - taken);
        await tick();
      }
    } finally {
      done = true;
      await side;
    }
    assert.equal(taken, ITEMS);
    return lead;
  };

  const alone = await maxLead();
  assert.ok(alone >= 200, `a stream alone: the producer led by ${alone} messages, expected about 250 (256 KiB)`);

  const shared = await maxLead(async () => {
    assert.equal((await add.add({ a: 1, b: 2 })).sum, 3);
  });
  assert.ok(shared >= 20 && shared <= 70, `beside unary calls: the producer led by ${shared} messages, expected at most about 62 (64 KiB)`);
});
