// Type tests: `npm test` typechecks this file; each @ts-expect-error must be an error.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { BroadcastClient, CallResult, Client, DetailedClient, DetailedStream, OneWayClient, ServiceImpl } from "../../src/rpc/index.js";
import type { Item, StreamTest, SumResponse } from "../gen/goms/test/v1/streams_pb.js";
import { AddServer, type AddResponse } from "../../examples/gen/goms/examples/v1/add_pb.js";
import { DB, type WatchResponse } from "../../examples/gen/goms/examples/v1/db_pb.js";
import { resumeStream, type WebClient } from "../../src/web/index.js";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

declare const add: Client<typeof AddServer>;

function typeChecks(): void {
  expectType<Equals<ReturnType<typeof add.add>, Promise<AddResponse>>>(true);
  void add.add({ a: 1, b: 2 }, { timeoutMs: 10, metadata: { k: "v" } });
  // @ts-expect-error wrong field type
  void add.add({ a: "1" });
  // @ts-expect-error unknown field
  void add.add({ c: 1 });
  // @ts-expect-error no such method
  void add.sub({});
  // @ts-expect-error unknown call option
  void add.add({}, { timeout: 5 });

  const impl: ServiceImpl<typeof DB> = {
    update: () => ({}),
    query: (req, ctx) => {
      ctx.ret = 1;
      const k: string = req.key;
      return { value: k };
    },
  };
  void impl;
  const bad: ServiceImpl<typeof DB> = {
    // @ts-expect-error wrong response field type
    query: () => ({ value: 1 }),
  };
  void bad;
}

declare const detailed: DetailedClient<typeof StreamTest>;
declare const sender: OneWayClient<typeof StreamTest>;
declare const everyone: BroadcastClient<typeof StreamTest>;
declare const reqs: AsyncIterable<{ n: number }>;

function streamTypeChecks(): void {
  // detailedClient: exact per kind.
  expectType<Equals<ReturnType<typeof detailed.count>, DetailedStream<Item>>>(true);
  expectType<Equals<ReturnType<typeof detailed.sum>, Promise<CallResult<SumResponse>>>>(true);
  expectType<Equals<ReturnType<typeof detailed.echo>, DetailedStream<Item>>>(true);
  // sender: client streams only.
  expectType<Equals<ReturnType<typeof sender.sum>, Promise<void>>>(true);
  void sender.sum(reqs);
  // @ts-expect-error a server stream has no one-way form
  void sender.count({ count: 1 });
  // @ts-expect-error a bidi stream has no one-way form
  void sender.echo(reqs);
  // @ts-expect-error broadcast carries unary methods only
  void everyone.count({ count: 1 });
  // call options take onTrailer
  void detailed.count({ count: 1 }, { onTrailer: (md, ret) => void [md["k"], ret + 1] });
  // Handlers: async generators, or synchronous iterables for messages at hand.
  const impl: ServiceImpl<typeof StreamTest> = {
    async *count(req) {
      yield { n: req.count };
    },
    sum: async (items) => {
      let total = 0n;
      for await (const i of items) total += BigInt(i.n);
      return { total };
    },
    echo: () => [{ n: 1 }, { n: 2 }],
  };
  void impl;
  const sync: ServiceImpl<typeof StreamTest> = {
    *count(req) {
      for (let n = 0; n < req.count; n++) yield { n };
    },
    echo: async () => [{ n: 1 }],
  };
  void sync;
  const wrong: ServiceImpl<typeof StreamTest> = {
    // @ts-expect-error a synchronous iterable of the wrong message
    count: () => [{ n: "one" }],
    // @ts-expect-error a client stream returns one response, not an iterable
    sum: () => [{ total: 1n }],
  };
  void wrong;
}

declare const webDb: WebClient<typeof DB>;
declare const nodeDb: Client<typeof DB>;

function resumeTypeChecks(): void {
  // The method types the request, `last` and the messages, for the web and the node client alike.
  const followed = resumeStream(webDb.watch, (last) => {
    expectType<Equals<typeof last, WatchResponse | undefined>>(true);
    return { key: last?.key ?? "k" };
  });
  expectType<Equals<typeof followed, AsyncIterable<WatchResponse>>>(true);
  void followed;
  void resumeStream(nodeDb.watch, () => ({ key: "k" }), { call: { timeoutMs: 5, metadata: { a: "b" } } });
  void resumeStream(webDb.watch, () => ({ key: "k" }), { call: { timeoutMs: 5, headers: { a: "b" } } });
  // @ts-expect-error the request must be the method's request
  void resumeStream(webDb.watch, () => ({ key: 1 }));
  // @ts-expect-error call options are the method's (web calls have no metadata option)
  void resumeStream(webDb.watch, () => ({ key: "k" }), { call: { metadata: {} } });
  // @ts-expect-error a unary method is not a stream
  void resumeStream(webDb.query, () => ({ key: "k" }));
}

it("types compile (checked by tsc in npm test)", () => {
  assert.equal(typeof typeChecks, "function");
  assert.equal(typeof streamTypeChecks, "function");
  assert.equal(typeof resumeTypeChecks, "function");
});
