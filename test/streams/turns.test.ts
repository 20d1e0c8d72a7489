// A stream producer gives the event loop a turn every 64 KiB while its node
// serves no unary calls, and every 4 KiB (at most 8 messages) while it does,
// so that unary calls beside a busy stream wait at most a short turn
// (StreamOutbox.endTurn; docs/benchmarks.md, "Unary calls beside a busy
// stream"). Measured in messages produced between two setImmediate ticks of
// the server's event loop, over real TCP: counts, not time.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { AddServer } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet } from "../helpers.js";

const nodes = new NodeSet();
after(() => nodes.closeAll());

/** 1 KiB items: a 64 KiB turn is about 63 of them, a 4 KiB one about 4. */
const ITEM_BYTES = 1024;
const ITEMS = 1200;

it("turns are 64 KiB for a stream alone, 4 KiB while the node also serves unary calls", async () => {
  // Messages the handler produced in each turn of the event loop (a tick is a setImmediate callback).
  const runs: number[] = [];
  const server = await nodes.start({ identity: { name: "turns-server" }, listen: { port: 0 } }, (n) => {
    n.service(AddServer, { add: (req) => ({ sum: req.a + req.b }) });
    n.service(StreamTest, {
      async *count(req) {
        let tick = 0;
        let ticking = true;
        const ticker = (): void => {
          tick++;
          if (ticking) setImmediate(ticker);
        };
        setImmediate(ticker);
        const payload = new Uint8Array(ITEM_BYTES);
        let seen = tick;
        let run = 0;
        try {
          for (let i = 0; i < req.count; i++) {
            yield { n: i, payload };
            if (tick !== seen) {
              runs.push(run);
              run = 0;
              seen = tick;
            }
            run++;
          }
        } finally {
          ticking = false;
        }
      },
      async sum() {
        return {};
      },
      async *echo() {},
    });
  });
  const client = await nodes.start({ identity: { name: "turns-client" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  const stream = client.client(StreamTest);

  /** The longest run in the second half of the stream's turns, with `beside` called in a loop meanwhile. */
  const longestTurn = async (beside?: () => Promise<void>): Promise<number> => {
    runs.length = 0;
    let got = 0;
    let done = false;
    const side = beside === undefined ? Promise.resolve() : (async () => {
      while (!done) await beside();
    })();
    try {
      for await (const _ of stream.count({ count: ITEMS, size: 0 })) got++;
    } finally {
      done = true;
      await side;
    }
    assert.equal(got, ITEMS);
    assert.ok(runs.length > 4, `only ${runs.length} turns`);
    // The second half: calls that start beside the stream have been seen by then.
    return Math.max(...runs.slice(Math.ceil(runs.length / 2)));
  };

  const alone = await longestTurn();
  assert.ok(alone >= 50 && alone <= 64, `a stream alone: ${alone} messages per turn, expected about 63 (64 KiB)`);

  const add = client.client(AddServer);
  const shared = await longestTurn(async () => {
    assert.equal((await add.add({ a: 1, b: 2 })).sum, 3);
  });
  assert.ok(shared >= 2 && shared <= 5, `beside unary calls: ${shared} messages per turn, expected about 4 (4 KiB)`);

  // Calls made before a stream opened are not news to it: with none during it, it is alone.
  const after = await longestTurn();
  assert.ok(after >= 50 && after <= 64, `a stream opened after the calls stopped: ${after} messages per turn, expected about 63 (64 KiB)`);
});
