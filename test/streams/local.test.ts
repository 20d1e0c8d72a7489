import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, GomsError } from "../../src/errors/index.js";
import type { Interceptor } from "../../src/rpc/index.js";
import { StreamTest } from "../gen/goms/test/v1/streams_pb.js";
import { NodeSet, sleep, until } from "../helpers.js";
import { newProbe, pair, streamImpl } from "./fixture.js";

const nodes = new NodeSet();
afterEach(() => nodes.closeAll());

async function* items(count: number) {
  for (let i = 1; i <= count; i++) yield { n: i };
}

function localNode(probe: ReturnType<typeof newProbe>) {
  return nodes.start({ identity: { name: "local" } }, (n) => n.service(StreamTest, streamImpl(probe)));
}

describe("in-process streams", () => {
  it("all three kinds work without the network", async () => {
    const probe = newProbe();
    const n = await localNode(probe);
    const c = n.client(StreamTest);
    const got: number[] = [];
    for await (const m of c.count({ count: 40, size: 2 })) got.push(m.n);
    assert.equal(got.length, 40);
    assert.equal((await c.sum(items(100))).total, 5050n);
    const echoed: number[] = [];
    for await (const m of c.echo(items(30))) echoed.push(m.n);
    assert.deepEqual(echoed, Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("back-pressure: the producer is suspended by a bounded queue", async () => {
    const probe = newProbe();
    const n = await localNode(probe);
    const it = n.client(StreamTest).count({ count: 10_000, size: 1024 }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await it.next();
    await sleep(200);
    assert.ok(probe.produced - 3 <= 16 + 2, `at most the local window is queued (${probe.produced - 3})`);
    let rest = 0;
    for (;;) {
      if ((await it.next()).done === true) break;
      rest++;
    }
    assert.equal(rest + 3, 10_000);
  });

  it("messages are cloned both ways", async () => {
    const n = await nodes.start({ identity: { name: "local" } }, (node) =>
      node.service(StreamTest, {
        async *echo(reqs) {
          for await (const r of reqs) {
            r.n += 1000; // mutating what the handler got must not touch the caller's object
            yield r;
          }
        },
      }),
    );
    const mine = { n: 1 };
    async function* one() {
      yield mine;
    }
    for await (const m of n.client(StreamTest).echo(one())) assert.equal(m.n, 1001);
    assert.equal(mine.n, 1);
  });

  it("break, error and deadline behave as over the network", async () => {
    const probe = newProbe();
    const n = await localNode(probe);
    const c = n.client(StreamTest);
    for await (const m of c.count({ count: 100_000 })) if (m.n === 5) break;
    await until(() => probe.finallyRan === 1 && probe.aborted === 1);
    await assert.rejects(
      (async () => {
        for await (const _m of c.count({ count: 10, failAfter: 2 }));
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.FailedPrecondition && e.ret === 77,
    );
    await assert.rejects(
      (async () => {
        for await (const _m of c.count({ count: 1_000_000 }, { timeoutMs: 100 })) await sleep(10);
      })(),
      (e: unknown) => GomsError.is(e) && e.code === Code.DeadlineExceeded,
    );
  });
});

describe("interceptors see streams", () => {
  it("one interceptor shape: the stream flag, messages observable both ways; server interceptors wrap stream handlers", async () => {
    const seen: string[] = [];
    const watched: number[] = [];
    const tap: Interceptor = (next) => async (req) => {
      seen.push(`${req.method.name}:${req.stream ?? "unary"}`);
      if (req.stream === undefined) return next(req);
      const res = await next(req);
      const inner = res.message as AsyncIterable<{ n: number }>;
      return {
        ...res,
        message: (async function* () {
          for await (const m of inner) {
            watched.push(m.n);
            yield m;
          }
        })(),
      };
    };
    const serverSeen: string[] = [];
    const probe = newProbe();
    const { client } = await pair(nodes, probe, {
      calls: {
        interceptors: [tap],
        serverInterceptors: [
          (next) => (req, ctx) => {
            serverSeen.push(ctx.method.methodKind);
            return next(req, ctx);
          },
        ],
      },
    });
    for await (const _m of client.client(StreamTest).count({ count: 3 }));
    assert.equal((await client.client(StreamTest).sum(items(4))).total, 10n);
    assert.deepEqual(seen, ["Count:server_streaming", "Sum:client_streaming"]);
    // The client stream's one response (a SumResponse, no `n`) is observed too.
    assert.deepEqual(watched, [0, 1, 2, undefined]);
    assert.deepEqual(serverSeen, ["server_streaming", "client_streaming"]);
  });
});
