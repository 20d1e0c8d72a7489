import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, GomsError } from "../../src/errors/index.js";
import { ItemSchema, StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";
import { expectEndsWith, newProbe, pair } from "./fixture.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

async function* items(count: number, size = 0, sent?: { n: number }) {
  for (let i = 1; i <= count; i++) {
    if (sent) sent.n++;
    yield { n: i, payload: new Uint8Array(size) };
  }
}

describe("client streaming and bidi over TCP", () => {
  it("client stream: the server sums every message and answers once", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const res = await client.client(StreamTest).sum(items(1000, 100));
    assert.equal(res.total, 500500n);
    assert.equal(res.messages, 1000);
  });

  it("client stream back-pressure: a server that does not read suspends the client's producer", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    void server;
    const sent = { n: 0 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A handler that reads one message, then stalls until released.
    const stalled = await nodes.start({ identity: { name: "stalled" }, listen: { port: 0 } }, (n) =>
      n.service(StreamTest, {
        async sum(reqs) {
          let messages = 0;
          for await (const _r of reqs) {
            messages++;
            if (messages === 1) await gate;
          }
          return { messages };
        },
      }),
    );
    const c2 = await nodes.start({ identity: { name: "c2" }, peers: { addresses: [{ host: "127.0.0.1", port: stalled.port }] } });
    const p = c2.client(StreamTest).sum(items(10_000, 1024, sent), { timeoutMs: 0 });
    await sleep(500);
    assert.ok(sent.n < 10_000, "the client's producer is suspended");
    assert.ok(sent.n <= Math.ceil((256 * 1024) / 1032) + 3, `at most a window is sent (${sent.n})`);
    release();
    const res = await p;
    assert.equal(res.messages, 10_000);
    void client;
  });

  it("bidi: each message is echoed, in order", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const got: number[] = [];
    for await (const m of client.client(StreamTest).echo(items(300, 10))) got.push(m.n);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i + 1));
    await until(() => probe.finallyRan === 1);
  });

  it("bidi ping-pong: the client sends the next message after each answer", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    const answers: number[] = [];
    let wake: (() => void) | undefined;
    async function* pingPong() {
      for (let i = 0; i < 20; i++) {
        yield create(ItemSchema, { n: i });
        await new Promise<void>((r) => (wake = r));
      }
    }
    for await (const m of client.client(StreamTest).echo(pingPong())) {
      answers.push(m.n);
      wake?.();
    }
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => i));
  });

  it("bidi: breaking out ends the server generator (finally, ctx.signal)", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    for await (const m of client.client(StreamTest).echo(items(100_000, 10))) if (m.n === 50) break;
    await until(() => probe.finallyRan === 1 && probe.aborted === 1);
  });

  it("a client iterable that throws cancels the stream; the server's handler ends", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    async function* broken() {
      yield { n: 1 };
      await sleep(50);
      throw new GomsError("client source broke", Code.Aborted);
    }
    await assert.rejects(client.client(StreamTest).sum(broken()), (e: unknown) => GomsError.is(e) && e.code === Code.Aborted);
    await until(() => probe.aborted === 1);
  });

  it("client stream deadline: the server's handler is aborted", async () => {
    const probe = newProbe();
    const { client } = await pair(nodes, probe);
    async function* slow() {
      for (let i = 0; ; i++) {
        yield { n: i };
        await sleep(20);
      }
    }
    await assert.rejects(client.client(StreamTest).sum(slow(), { timeoutMs: 200 }), (e: unknown) => GomsError.is(e) && e.code === Code.DeadlineExceeded);
    await until(() => probe.aborted === 1 && probe.finallyRan === 1);
  });

  it("the server node dying ends a bidi stream with unavailable", async () => {
    const probe = newProbe();
    const { server, client } = await pair(nodes, probe);
    async function* forever() {
      for (let i = 0; ; i++) {
        yield { n: i };
        await sleep(5);
      }
    }
    const it = client.client(StreamTest).echo(forever(), { timeoutMs: 0 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await server.close({ graceMs: 0 });
    await expectEndsWith(it, Code.Unavailable);
  });
});
