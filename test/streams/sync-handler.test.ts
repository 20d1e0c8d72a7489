import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import type { Client, ServiceImpl } from "../../src/rpc/index.js";
import { NodeSet, sleep, until } from "../helpers.js";
import { newProbe, type Probe } from "./fixture.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

/**
 * A server-streaming handler that returns a synchronous iterable (a plain
 * generator): driveStream sends what it yields in one go while the connection
 * takes messages at once, and must still stop at the window and close the
 * generator when the stream ends early.
 */
function syncImpl(probe: Probe): ServiceImpl<typeof StreamTest> {
  // ServiceImpl types a synchronous iterable as a server-streaming handler's result: no cast.
  return {
    *count(req) {
      try {
        for (let i = 0; i < req.count; i++) {
          probe.produced++;
          yield { n: i, payload: new Uint8Array(req.size) };
        }
      } finally {
        probe.finallyRan++;
      }
    },
  };
}

async function start(probe: Probe): Promise<Client<typeof StreamTest>> {
  const server = await nodes.start({ identity: { name: "sync-server" }, listen: { port: 0 } }, (n) => n.service(StreamTest, syncImpl(probe)));
  const client = await nodes.start({ identity: { name: "sync-client" }, peers: { addresses: [{ host: "127.0.0.1", port: server.port }] } });
  return client.client(StreamTest);
}

describe("server stream from a synchronous generator", () => {
  it("delivers every message in order, then ends", async () => {
    const probe = newProbe();
    const c = await start(probe);
    const got: number[] = [];
    for await (const m of c.count({ count: 3000, size: 3 })) got.push(m.n);
    assert.deepEqual(got, Array.from({ length: 3000 }, (_, i) => i));
    await until(() => probe.finallyRan === 1);
  });

  it("stops at the window while nobody reads", async () => {
    const probe = newProbe();
    const c = await start(probe);
    const it = c.count({ count: 10_000, size: 1024 }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await sleep(500);
    const inFlight = probe.produced - 1;
    assert.ok(inFlight <= Math.ceil((256 * 1024) / (1024 + 8)) + 2, `at most a window of messages is in flight (${inFlight})`);
    let n = 1;
    while ((await it.next()).done !== true) n++;
    assert.equal(n, 10_000);
  });

  it("breaking out closes the generator (its finally runs)", async () => {
    const probe = newProbe();
    const c = await start(probe);
    for await (const m of c.count({ count: 1_000_000, size: 10 })) if (m.n === 20) break;
    await until(() => probe.finallyRan === 1, 5000, "server generator closed");
    assert.ok(probe.produced < 1_000_000);
  });
});
